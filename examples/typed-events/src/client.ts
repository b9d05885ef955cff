// The typed client: socket.io-client's Socket with the same maps, the other way round.
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "./events";

export type TypedClient = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Connects as `name`; the client votes `vote` on every poll. */
export function connectAs(url: string, name: string, vote: "yes" | "no", opts: Partial<ManagerOptions & SocketOptions> = {}): TypedClient {
  const socket: TypedClient = io(url, { ...opts, auth: { name } });
  socket.on("poll", (_question, answer) => answer(vote));
  return socket;
}

if (require.main === module) {
  const socket = connectAs(process.argv[2] ?? "http://localhost:3000", "cli", "yes");
  socket.on("chat", (message) => console.log(`${message.from}: ${message.text}`));
  socket.on("connect", async () => {
    const result = await socket.emitWithAck("chat", "hello, typed world");
    console.log(result.ok ? `sent as #${result.id}` : `refused: ${result.error}`);
  });
}
