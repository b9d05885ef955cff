import { Body, Controller, Get, HttpCode, Post } from "@nestjs/common";
import { EventsGateway } from "./events.gateway";

/** Ordinary HTTP routes, next to the gateways on the same port. */
@Controller("api")
export class AppController {
  constructor(private readonly events: EventsGateway) {}

  @Get("status")
  status(): { clients: number } {
    return { clients: this.events.server.engine.clientsCount };
  }

  /** A route that talks to every connected socket. */
  @Post("announce")
  @HttpCode(200)
  announce(@Body() body: { text: string }): { sent: boolean } {
    this.events.server.emit("announcement", String(body.text));
    return { sent: true };
  }
}
