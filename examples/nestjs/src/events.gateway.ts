import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  WsException,
  type OnGatewayConnection,
  type WsResponse,
} from "@nestjs/websockets";
import type { Namespace, Server, Socket } from "../../../dist";

/** The main namespace, on the application's own HTTP server and port. */
@WebSocketGateway()
export class EventsGateway implements OnGatewayConnection {
  @WebSocketServer() server!: Server;

  handleConnection(client: Socket): void {
    client.emit("welcome", client.id);
  }

  /** A returned value becomes the acknowledgement. */
  @SubscribeMessage("echo")
  echo(@MessageBody() text: string, @ConnectedSocket() client: Socket): string {
    return `${text} (via ${client.conn.transport.name})`;
  }

  /** A returned { event, data } is emitted back to the sender. */
  @SubscribeMessage("join")
  async join(@MessageBody() room: string, @ConnectedSocket() client: Socket): Promise<WsResponse<string>> {
    if (typeof room !== "string" || room === "") throw new WsException("a room name is required");
    await client.join(room);
    return { event: "joined", data: room };
  }

  @SubscribeMessage("say")
  say(@MessageBody() body: { room: string; text: string }, @ConnectedSocket() client: Socket): void {
    client.to(body.room).emit("said", { from: client.id, text: body.text });
  }
}

/** A second gateway on a namespace of the same Volley server. */
@WebSocketGateway({ namespace: "admin" })
export class AdminGateway {
  @WebSocketServer() namespace!: Namespace;

  @SubscribeMessage("count")
  count(): number {
    return this.namespace.server.of("/").sockets.size;
  }
}
