import { EventEmitter } from "node:events";
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { endRawResponse } from "./upgrade-response";
import { WsConnection } from "./ws-connection";
import { checkUpgradeRequest, switchingProtocolsHead } from "./ws-handshake";

/** The head of an upgrade refused before the WebSocket handshake, as `ws` writes it. */
const HTML_REFUSAL_LINES = ["Connection: close", "Content-Type: text/html"];

/**
 * Volley's own WebSocket server (no permessage-deflate, no `wsEngine`): what `engine.ws` is
 * by default. It has `ws`'s `noServer` surface (`handleUpgrade`, a `headers` event with the
 * 101's header lines, `close`) and hands each accepted upgrade over as a WsConnection.
 */
export class WsServer extends EventEmitter {
  private closed = false;

  constructor(private readonly maxPayload: number) {
    super();
  }

  handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (connection: WsConnection, req: IncomingMessage) => void,
  ): void {
    const handshake = checkUpgradeRequest(req);
    if ("status" in handshake) {
      endRawResponse(socket, handshake.status, HTML_REFUSAL_LINES, handshake.message, handshake.headerLines);
      return;
    }
    if (this.closed) {
      endRawResponse(socket, 503, HTML_REFUSAL_LINES, STATUS_CODES[503] as string);
      return;
    }
    if (!socket.readable || !socket.writable) {
      socket.destroy();
      return;
    }
    const lines: string[] = [];
    this.emit("headers", lines, req);
    socket.write(switchingProtocolsHead(handshake, lines));
    cb(new WsConnection(socket, handshake.protocol, this.maxPayload, head), req);
  }

  /** Later upgrades get 503, as from a closed `ws` server. */
  close(): void {
    this.closed = true;
  }
}
