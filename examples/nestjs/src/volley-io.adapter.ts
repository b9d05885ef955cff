// The supported way to run NestJS gateways on Volley: @nestjs/platform-socket.io builds its
// socket.io Server in one overridable method, IoAdapter.createIOServer. This subclass builds
// a Volley Server there instead; everything else (binding handlers, acks, namespaces,
// closing) is Nest's own code, which only uses the socket.io API that Volley mirrors.
import { IoAdapter } from "@nestjs/platform-socket.io";
import { Server, type ServerOptions } from "../../../dist";

// Nest's signature names socket.io's own types.
type IoServer = ReturnType<IoAdapter["createIOServer"]>;
type IoOptions = Parameters<IoAdapter["createIOServer"]>[1];

export class VolleyIoAdapter extends IoAdapter {
  override createIOServer(port: number, ioOptions?: IoOptions): IoServer {
    // socket.io's option types also list the "webtransport" transport, which Volley does not serve.
    const options = ioOptions as Partial<ServerOptions> | undefined;
    // As IoAdapter does: port 0 (a gateway without a port of its own) shares the app's HTTP server.
    const server = this.httpServer && port === 0 ? new Server(this.httpServer, options) : new Server(port, options);
    // Volley's Server has the public API of socket.io's, which is all Nest uses.
    return server as unknown as IoServer;
  }
}
