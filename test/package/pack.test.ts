/**
 * The published package, as a user gets it: `npm pack` the repository (its dist/ must be
 * built: `npm test` builds first), install the tarball into a fresh temporary project
 * (dependencies come from the npm cache), then from that project `require` and `import`
 * volley-io, volley-io/engine and volley-io/parser, call the CommonJS export like
 * socket.io's (`require("volley-io")(httpServer)`), run connections with socket.io-client,
 * and compile typed TypeScript (CommonJS and ESM, strict, library checks on) against the
 * shipped declarations with the repository's `typescript`. The tarball holds dist/, the
 * declarations, the browser client bundles, README and LICENSE, and nothing else.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../examples/util";

interface Run {
  stdout: string;
  stderr: string;
}

/** Runs a command; rejects with its output when it fails or takes longer than `timeout` ms. */
function run(file: string, args: string[], cwd: string, timeout = 30000, env: NodeJS.ProcessEnv = cleanEnv()): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env, timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(" ")} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** The environment without the npm_* variables of an enclosing `npm test`, which would steer the inner npm. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key)) env[key] = value;
  return { ...env, ...extra };
}

let dir = "";
let app = "";
let entries: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "volley-pack-"));
  // --ignore-scripts: pack the dist/ that `npm test` just built instead of rebuilding it (prepack).
  const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], ROOT);
  const [{ filename }] = JSON.parse(packed.stdout) as Array<{ filename: string }>;
  const tarball = join(dir, filename);
  entries = (await run("tar", ["-tzf", tarball], dir)).stdout.split("\n").filter(Boolean);

  app = join(dir, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "volley-pack-check", version: "1.0.0", private: true }));
  await run("npm", ["install", tarball, "--no-audit", "--no-fund", "--prefer-offline", "--no-package-lock"], app, 60000);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("package: the tarball holds dist, declarations, client bundles, README and LICENSE, and no tests or sources", () => {
  const files = entries.map((e) => e.replace(/^package\//, ""));
  for (const required of [
    "package.json",
    "README.md",
    "LICENSE",
    "wrapper.mjs",
    "engine.mjs",
    "parser.mjs",
    "dist/index.js",
    "dist/index.d.ts",
    "dist/server.d.ts",
    "dist/engine/index.js",
    "dist/engine/index.d.ts",
    "dist/parser/index.js",
    "dist/parser/index.d.ts",
    "dist/client-dist/socket.io.js",
    "dist/client-dist/socket.io.js.map",
    "dist/client-dist/socket.io.min.js",
    "dist/client-dist/socket.io.esm.min.js",
    "dist/client-dist/socket.io.msgpack.min.js",
    "dist/client-dist/version.json",
  ]) {
    assert.ok(files.includes(required), `${required} is missing from the tarball`);
  }
  const unwanted = files.filter(
    (f) =>
      /(^|\/)(test|tests|src|examples|bench|scripts|scratch|build[^/]*|node_modules|\.ci)\//.test(f) ||
      /\.test\.|\.tsbuildinfo$|\.tgz$/.test(f) ||
      (f.endsWith(".ts") && !f.endsWith(".d.ts")),
  );
  assert.deepEqual(unwanted, []);
  // Every file is under dist/ or one of the few top-level ones.
  const topLevel = files.filter((f) => !f.startsWith("dist/")).sort();
  assert.deepEqual(topLevel, ["LICENSE", "README.md", "engine.mjs", "package.json", "parser.mjs", "wrapper.mjs"]);
});

test("package: require() from an installed project, the callable export and a connection", async () => {
  writeFileSync(
    join(app, "check.cjs"),
    `const assert = require("node:assert/strict");
const http = require("node:http");
const volley = require("volley-io");
const { io: connect } = require(process.env.SOCKET_IO_CLIENT);

// Installed in this project, not resolved from the repository.
assert.ok(require.resolve("volley-io").startsWith(__dirname + "/node_modules/volley-io/"));
assert.equal(typeof volley, "function");
assert.equal(typeof volley.Server, "function");
assert.equal(typeof volley.Namespace, "function");
assert.equal(typeof volley.Adapter, "function");
const engine = require("volley-io/engine");
assert.equal(typeof engine.Server, "function");
assert.equal(typeof engine.attach, "function");
const parser = require("volley-io/parser");
assert.equal(parser.protocol, 5);
assert.equal(require("volley-io/package.json").name, "volley-io");
// Only the exported entry points can be reached, as with socket.io.
assert.throws(() => require("volley-io/dist/server.js"), { code: "ERR_PACKAGE_PATH_NOT_EXPORTED" });

// socket.io's CommonJS idiom: the module itself is callable.
const httpServer = http.createServer();
const io = volley(httpServer, { pingInterval: 2000 });
assert.ok(io instanceof volley.Server);
io.on("connection", (socket) => socket.on("add", (a, b, ack) => ack(a + b)));
httpServer.listen(0, "127.0.0.1", async () => {
  const url = "http://127.0.0.1:" + httpServer.address().port;
  const client = connect(url, { reconnection: false });
  const sum = await client.timeout(5000).emitWithAck("add", 40, 2);
  // The bundle is served from the installed package's dist/client-dist.
  const bundle = await fetch(url + "/socket.io/socket.io.min.js");
  await bundle.arrayBuffer();
  console.log(JSON.stringify({ sum, bundle: bundle.status }));
  client.close();
  io.close();
});
`,
  );
  const out = await run(process.execPath, ["check.cjs"], app, 15000, cleanEnv({ SOCKET_IO_CLIENT: require.resolve("socket.io-client") }));
  assert.deepEqual(JSON.parse(out.stdout), { sum: 42, bundle: 200 });
});

test("package: import from an installed project (ESM) shares the CommonJS classes", async () => {
  writeFileSync(
    join(app, "check.mjs"),
    `import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import { createRequire } from "node:module";
import volley, { Server, Namespace, Socket, createServer } from "volley-io";
import engine, { Server as EngineServer, attach } from "volley-io/engine";
import { Encoder, Decoder, PacketType, protocol } from "volley-io/parser";

const require = createRequire(import.meta.url);
const { io: connect } = require(process.env.SOCKET_IO_CLIENT);
// One copy of each class, whichever way it was loaded.
assert.equal(volley, require("volley-io"));
assert.equal(Server, require("volley-io").Server);
assert.equal(EngineServer, require("volley-io/engine").Server);
assert.equal(engine.Server, EngineServer);
assert.equal(typeof attach, "function");
assert.equal(typeof Namespace, "function");
assert.equal(typeof Socket, "function");
assert.equal(protocol, 5);

// The parser: encode an event, decode it back.
const [encoded] = new Encoder().encode({ type: PacketType.EVENT, nsp: "/", data: ["hi", 1] });
const decoder = new Decoder();
const decoded = new Promise((resolve) => decoder.on("decoded", resolve));
decoder.add(encoded);
assert.deepEqual((await decoded).data, ["hi", 1]);

const httpServer = createHttpServer();
const io = createServer(httpServer);
assert.ok(io instanceof Server);
io.on("connection", (socket) => socket.on("shout", (text, ack) => ack(text.toUpperCase())));
await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
const client = connect("http://127.0.0.1:" + httpServer.address().port, { reconnection: false, transports: ["polling"] });
const reply = await client.timeout(5000).emitWithAck("shout", "hello");
console.log(JSON.stringify({ encoded, reply }));
client.close();
await io.close();
`,
  );
  const out = await run(process.execPath, ["check.mjs"], app, 15000, cleanEnv({ SOCKET_IO_CLIENT: require.resolve("socket.io-client") }));
  assert.deepEqual(JSON.parse(out.stdout), { encoded: '2["hi",1]', reply: "HELLO" });
});

test("package: typed TypeScript (CommonJS and ESM) compiles against the shipped declarations", async () => {
  const common = `import { createServer } from "node:http";
import { Server, type Socket, type DefaultEventsMap } from "volley-io";
import { Server as Engine, type Socket as EngineSocket } from "volley-io/engine";
import { Encoder, PacketType } from "volley-io/parser";

interface ClientToServer {
  hello: (name: string, ack: (reply: string) => void) => void;
}
interface ServerToClient {
  greeting: (text: string) => void;
}
interface Data {
  name: string;
}

export const io = new Server<ClientToServer, ServerToClient, DefaultEventsMap, Data>(createServer(), { pingInterval: 1000 });
io.on("connection", (socket: Socket<ClientToServer, ServerToClient, DefaultEventsMap, Data>) => {
  socket.on("hello", (name, ack) => {
    socket.data.name = name;
    ack("hi " + name);
  });
  socket.emit("greeting", "welcome");
  // @ts-expect-error "greeting" carries a string
  socket.emit("greeting", 42);
  // @ts-expect-error socket.data.name is a string
  socket.data.name = 1;
});
io.to("room").except("other").emit("greeting", "to a room");

export const engine = new Engine({ pingTimeout: 1000 });
engine.on("connection", (socket: EngineSocket) => socket.send("hello"));
export const encoded: unknown[] = new Encoder().encode({ type: PacketType.EVENT, nsp: "/", data: ["x"] });
`;
  writeFileSync(join(app, "typed.ts"), common);
  writeFileSync(join(app, "typed-esm.mts"), common);
  writeFileSync(
    join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        // @types/node as a user would have it (the repository's copy); everything else comes with the package.
        typeRoots: [join(ROOT, "node_modules", "@types")],
        types: ["node"],
        skipLibCheck: false,
      },
      files: ["typed.ts", "typed-esm.mts"],
    }),
  );
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const out = await run(process.execPath, [tsc, "-p", "."], app, 45000).catch((err: Error) => err.message);
  assert.deepEqual(typeof out === "string" ? out : out.stdout + out.stderr, "");
  // The declarations' imports (ws, cookie) resolve from the installed project alone.
  const installed = JSON.parse(readFileSync(join(app, "node_modules", "volley-io", "package.json"), "utf8")) as { dependencies: Record<string, string> };
  assert.ok(installed.dependencies["@types/ws"], "@types/ws is a dependency: the declarations import ws types");
});
