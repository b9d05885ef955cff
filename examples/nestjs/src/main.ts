// NestJS with its gateways on Volley. `npm run build` and `npx tsc -p examples/nestjs` once,
// then `node examples/nestjs/out/main.js`.
import "reflect-metadata";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { NestFactory } from "@nestjs/core";
import type { INestApplication, LogLevel } from "@nestjs/common";
import { AppModule } from "./app.module";
import { VolleyIoAdapter } from "./volley-io.adapter";

export interface Running {
  app: INestApplication;
  httpServer: HttpServer;
  port: number;
  close(): Promise<void>;
}

/** Starts the application on `port` (0 picks a free one); resolves once it listens. */
export async function start(port = 3000, host?: string, logger: LogLevel[] | false = ["log", "warn", "error"]): Promise<Running> {
  const app = await NestFactory.create(AppModule, { logger });
  // The one line that puts Volley under every gateway of the application.
  app.useWebSocketAdapter(new VolleyIoAdapter(app));
  await (host === undefined ? app.listen(port) : app.listen(port, host));
  const httpServer = app.getHttpServer() as HttpServer;
  return { app, httpServer, port: (httpServer.address() as AddressInfo).port, close: () => app.close() };
}

if (require.main === module) {
  void start(Number(process.env.PORT) || 3000).then(({ port }) => console.log(`nestjs example on http://localhost:${port}`));
}
