import { Module } from "@nestjs/common";
import { AppController } from "./app.controller";
import { AdminGateway, EventsGateway } from "./events.gateway";

@Module({ controllers: [AppController], providers: [EventsGateway, AdminGateway] })
export class AppModule {}
