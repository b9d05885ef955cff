/**
 * examples/nestjs: NestJS gateways on Volley through a custom IoAdapter (createIOServer
 * returns a Volley Server). The example compiles with the repository's `tsc` (decorators
 * and their metadata), then: the gateway's server is Volley's; Nest's routes, 404 and
 * body parsing keep working next to Socket.IO (WebSocket and polling) and another upgrade
 * handler; returned values become acks, `{ event, data }` replies are emitted, rooms work,
 * a WsException reaches the client as "exception", and a namespaced gateway shares the server.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import type * as Volley from "../../src/index";
import { within } from "../helpers";
import { ROOT, ack, checkFrameworkExample, connected, loadExample, next, type Running } from "./util";

interface NestApp {
  get(token: unknown): unknown;
}
interface MainModule {
  start(port: number, host?: string, logger?: string[] | false): Promise<Running & { app: NestApp }>;
}

function compile(): Promise<string> {
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const run = new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [tsc, "-p", join(ROOT, "examples", "nestjs")], { cwd: ROOT }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tsc failed:\n${stdout}${stderr}`));
      else resolve(stdout + stderr);
    });
  });
  return within(run, 30000, "tsc -p examples/nestjs");
}

test("nestjs example: gateways run on Volley next to Nest's HTTP routes", async () => {
  assert.equal(await compile(), "");
  const { start } = loadExample<MainModule>("nestjs", "out/main.js");
  const { EventsGateway } = loadExample<{ EventsGateway: unknown }>("nestjs", "out/events.gateway.js");
  const dist = require(join(ROOT, "dist")) as typeof Volley;
  const running = await start(0, "127.0.0.1", ["error", "warn"]);
  const base = `http://127.0.0.1:${running.port}`;
  const clients: ClientSocket[] = [];
  try {
    // Nest injected the server the adapter built: Volley's, not socket.io's.
    const gateway = running.app.get(EventsGateway) as { server: Volley.Server };
    assert.ok(gateway.server instanceof dist.Server);
    assert.equal(gateway.server.httpServer, running.httpServer);

    await checkFrameworkExample(running, (res, path) => {
      assert.equal(res.status, 404);
      assert.deepEqual(JSON.parse(res.text), { message: `Cannot GET ${path}`, error: "Not Found", statusCode: 404 });
    });

    const ann = await connected(base, {}, clients);
    const bob = await connected(base, { transports: ["polling"] }, clients);

    // handleConnection (OnGatewayConnection) greets each new socket.
    const carol = connect(base, { forceNew: true, reconnection: false });
    clients.push(carol);
    assert.equal(await next(carol, "welcome"), carol.id);

    // A WsException becomes an "exception" event for the sender.
    const failure = next<{ status: string; message: string }>(ann, "exception");
    ann.emit("join", "");
    const { status, message } = await failure;
    assert.deepEqual({ status, message }, { status: "error", message: "a room name is required" });

    // { event, data } replies are emitted back; rooms are Volley's.
    const annJoined = next(ann, "joined");
    ann.emit("join", "lobby");
    assert.equal(await annJoined, "lobby");
    const bobJoined = next(bob, "joined");
    bob.emit("join", "lobby");
    assert.equal(await bobJoined, "lobby");
    assert.deepEqual([...(gateway.server.of("/").adapter.rooms.get("lobby") ?? [])].sort(), [ann.id, bob.id].sort());

    const said = next(bob, "said");
    ann.emit("say", { room: "lobby", text: "hello" });
    assert.deepEqual(await said, { from: ann.id, text: "hello" });

    // The namespaced gateway lives on the same Volley server.
    const admin = await connected(`${base}/admin`, {}, clients);
    assert.equal(await ack(admin, "count"), gateway.server.of("/").sockets.size);
  } finally {
    for (const c of clients) c.disconnect();
    await running.close();
  }
});
