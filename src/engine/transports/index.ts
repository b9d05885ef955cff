import { Polling } from "./polling";
import { JsonpPolling } from "./jsonp";
import { WebSocketTransport } from "./websocket";

export { Polling, JsonpPolling, WebSocketTransport };

/** Transport classes by name, as engine.io's `transports` export. */
export const transports = {
  polling: Polling,
  websocket: WebSocketTransport,
} as const;
