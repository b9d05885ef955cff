// The event maps both ends share: change a payload here and every mismatched emit or
// listener, on the server and in the client, becomes a compile error.

export interface ChatMessage {
  id: number;
  from: string;
  text: string;
}

export type ChatResult = { ok: true; id: number } | { ok: false; error: string };

/** Events the server emits and the client listens to. */
export interface ServerToClientEvents {
  chat: (message: ChatMessage) => void;
  userCount: (count: number) => void;
  /** The server asks, every client answers through the acknowledgement. */
  poll: (question: string, answer: (vote: "yes" | "no") => void) => void;
}

/** Events the client emits and the server listens to. */
export interface ClientToServerEvents {
  chat: (text: string, ack: (result: ChatResult) => void) => void;
  whoami: (ack: (me: { name: string; rooms: string[] }) => void) => void;
}

/** Events servers send each other (`io.serverSideEmit`), with an adapter for several servers. */
export interface InterServerEvents {
  ping: () => void;
}

/** What the server keeps in `socket.data`. */
export interface SocketData {
  name: string;
}
