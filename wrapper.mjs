import volley from "./dist/index.js";
export const {
  Server,
  Namespace,
  ParentNamespace,
  Socket,
  Client,
  BroadcastOperator,
  RemoteSocket,
  Adapter,
  SessionAwareAdapter,
  DisconnectReasons,
  createServer,
} = volley;
export default volley;
