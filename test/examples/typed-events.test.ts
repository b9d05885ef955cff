/**
 * examples/typed-events: the TypeScript example compiles with the repository's `tsc`
 * against the built declarations (including its file of deliberate mistakes, each of
 * which must be a type error), and the compiled server and typed client then talk:
 * middleware on `auth`, acks, broadcasts, `socket.data`, and a server-side
 * `timeout().emitWithAck()` collecting every client's answer.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import type { Socket } from "socket.io-client";
import { within } from "../helpers";
import { ROOT, T, loadExample, next } from "./util";
import type { ChatMessage, ChatResult, ClientToServerEvents, ServerToClientEvents } from "../../examples/typed-events/src/events";

type TypedClient = Socket<ServerToClientEvents, ClientToServerEvents>;
interface ServerModule {
  start(port: number, host?: string): Promise<{ port: number; poll(q: string): Promise<string[]>; close(): Promise<void> }>;
}
interface ClientModule {
  connectAs(url: string, name: string, vote: "yes" | "no", opts?: object): TypedClient;
}

function compile(): Promise<string> {
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const run = new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [tsc, "-p", join(ROOT, "examples", "typed-events")], { cwd: ROOT }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tsc failed:\n${stdout}${stderr}`));
      else resolve(stdout + stderr);
    });
  });
  return within(run, 30000, "tsc -p examples/typed-events");
}

function connectedClient(client: TypedClient): Promise<void> {
  return within(
    new Promise<void>((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("connect_error", reject);
    }),
    T,
    "typed client connect",
  );
}

test("typed-events example: compiles with tsc, then server and typed clients talk", async () => {
  assert.equal(await compile(), "");
  const { start } = loadExample<ServerModule>("typed-events", "out/server.js");
  const { connectAs } = loadExample<ClientModule>("typed-events", "out/client.js");
  const running = await start(0, "127.0.0.1");
  const url = `http://127.0.0.1:${running.port}`;
  const clients: TypedClient[] = [];
  const client = (name: string, vote: "yes" | "no", opts: object = {}) => {
    const socket = connectAs(url, name, vote, { forceNew: true, reconnection: false, ...opts });
    clients.push(socket);
    return socket;
  };
  try {
    // The middleware refuses a client without a name.
    const nameless = client("  ", "no");
    const refused = await within(new Promise<Error>((resolve) => nameless.once("connect_error", resolve)), T, "refusal");
    assert.equal(refused.message, "a name is required");

    const ann = client("ann", "yes");
    await connectedClient(ann);
    const bob = client("bob", "no", { transports: ["polling"] });
    const annSeesTwo = new Promise<void>((resolve) => ann.on("userCount", (n) => n === 2 && resolve()));
    await connectedClient(bob);
    await within(annSeesTwo, T, "userCount 2");

    const me = await within(bob.emitWithAck("whoami"), T, "whoami");
    assert.deepEqual(me, { name: "bob", rooms: [bob.id] });

    const heard = next<ChatMessage>(bob, "chat");
    const sent: ChatResult = await within(ann.emitWithAck("chat", "hi bob"), T, "chat ack");
    assert.deepEqual(sent, { ok: true, id: 1 });
    assert.deepEqual(await heard, { id: 1, from: "ann", text: "hi bob" });
    assert.deepEqual(await within(ann.emitWithAck("chat", "   "), T, "empty chat"), { ok: false, error: "empty message" });

    const votes = await within(running.poll("lunch?"), T, "poll");
    assert.deepEqual([...votes].sort(), ["no", "yes"]);
  } finally {
    for (const c of clients) c.disconnect();
    await running.close();
  }
});
