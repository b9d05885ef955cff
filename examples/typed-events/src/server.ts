// Typed events: the server is typed by four maps (see events.ts), so that event names,
// payloads, acknowledgements and socket.data are all checked by the compiler.
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "../../../dist";
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from "./events";

export type TypedServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface Running {
  io: TypedServer;
  httpServer: HttpServer;
  port: number;
  /** Asks every client and collects their votes (each one typed "yes" | "no"). */
  poll(question: string): Promise<Array<"yes" | "no">>;
  close(): Promise<void>;
}

/** Starts the server on `port` (0 picks a free one); resolves once it listens. */
export async function start(port = 3000, host?: string): Promise<Running> {
  const httpServer = createServer();
  const io: TypedServer = new Server(httpServer);
  let lastId = 0;

  io.use((socket, next) => {
    const name: unknown = socket.handshake.auth.name;
    if (typeof name !== "string" || name.trim() === "") return next(new Error("a name is required"));
    socket.data.name = name.trim();
    next();
  });

  io.on("connection", (socket) => {
    io.emit("userCount", io.engine.clientsCount);

    socket.on("chat", (text, ack) => {
      if (text.trim() === "") return ack({ ok: false, error: "empty message" });
      const message = { id: ++lastId, from: socket.data.name, text };
      socket.broadcast.emit("chat", message);
      ack({ ok: true, id: message.id });
    });

    socket.on("whoami", (ack) => ack({ name: socket.data.name, rooms: [...socket.rooms] }));

    socket.on("disconnect", () => io.emit("userCount", io.engine.clientsCount));
  });

  await new Promise<void>((resolve) => httpServer.listen(port, host, resolve));
  return {
    io,
    httpServer,
    port: (httpServer.address() as AddressInfo).port,
    poll: (question) => io.timeout(2000).emitWithAck("poll", question),
    close: () => io.close(),
  };
}

if (require.main === module) {
  void start(Number(process.env.PORT) || 3000).then(({ port }) => console.log(`typed events example on http://localhost:${port}`));
}
