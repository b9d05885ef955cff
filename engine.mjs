import engine from "./dist/engine/index.js";
export const { Server, Socket, Transport, transports, parser, protocol, errors, errorMessages, CloseReason, attach, listen } = engine;
export default engine;
