import volley from "./dist/index.js";
export const { Server, Socket, Transport, transports, parser, protocol, errors, errorMessages, CloseReason, attach, listen, createServer } = volley;
export default volley;
