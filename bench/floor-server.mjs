// The floor for the socket benchmark: about the least a server on bare `ws` must do to speak
// Engine.IO v4 + Socket.IO v5 to a client on namespace "/" (WebSocket only, no polling).
//
//   node --expose-gc bench/floor-server.mjs <port>
//
// It does the same app as bench/socket-server.mjs: open packet, shared-timer pings, CONNECT
// answered with 40{"sid":...} (auth `half` joins the room), EVENT "echo" with an ack id
// answered with ACK (JSON parsed and re-encoded, as any real server must), BINARY_EVENT with
// attachments answered with BINARY_ACK, and broadcasts that build one frame and queue the same
// buffer for every recipient. Writes are coalesced: a socket written to in one event-loop turn
// is flushed once, in one process.nextTick shared by every socket touched in that turn, with
// every frame of the turn in one write. No polling, no other namespaces, no recovery, no
// middleware: the floor is what the wire protocol costs, not a server.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import { announce, serveControl } from "./server-control.mjs";

const PING_INTERVAL = 25_000;
const MAX_PAYLOAD = 1_000_000;
/** Frames queued in one turn are joined into one buffer up to this size, else written under cork. */
const JOIN_LIMIT = 16 * 1024;

const portArg = process.argv[2] ?? "0";

/** One connected client; the ws socket points to it through `kClient` (no closures). */
class Client {
  constructor(ws) {
    this.ws = ws;
    this.raw = ws._socket; // the net.Socket: frames are written to it directly
    this.sid = newId();
    this.joined = false; // connected to namespace "/"
    this.half = false;
    this.pongDue = false;
    /** This turn's frames: strings (text frames to build), { binary } (binary frames to build)
     *  or Buffers (whole frames, possibly shared). */
    this.out = undefined;
    this.outBytes = 0;
    /** A BINARY_EVENT waiting for its attachments. */
    this.binary = undefined;
  }
}
const kClient = Symbol("client");

const clients = new Set(); // every open session
const joined = new Set(); // sessions in namespace "/"
const room = new Set(); // sessions in the room "half"

function newId() {
  return randomBytes(15).toString("base64url");
}

// ---------------------------------------------------------------- write path

let touched = [];

/** Queues a text frame (built at flush time, into the turn's one buffer). */
function sendText(client, text) {
  const length = Buffer.byteLength(text);
  enqueue(client, text, headerSize(length) + length);
}

/** Queues bytes that already form whole frames (a broadcast frame shared by all recipients). */
function sendFrame(client, frame) {
  enqueue(client, frame, frame.length <= JOIN_LIMIT ? frame.length : 0);
}

/** Queues a binary frame; a large payload is written as its own chunk, not copied. */
function sendBinary(client, data) {
  if (data.length <= JOIN_LIMIT) {
    enqueue(client, { binary: data }, headerSize(data.length) + data.length);
  } else {
    sendFrame(client, header(0x2, data.length));
    sendFrame(client, data);
  }
}

function enqueue(client, item, bytes) {
  if (client.out === undefined) {
    client.out = [item];
    client.outBytes = bytes;
    if (touched.push(client) === 1) process.nextTick(flush);
  } else {
    client.out.push(item);
    client.outBytes += bytes;
  }
}

/** Writes every client's frames of this turn: one buffer, one write (large binaries aside). */
function flush() {
  const list = touched;
  touched = [];
  for (let i = 0; i < list.length; i++) {
    const client = list[i];
    const out = client.out;
    client.out = undefined;
    const raw = client.raw;
    if (raw.destroyed) continue;
    // A lone whole frame (a broadcast, a ping) goes out as it is, shared.
    if (out.length === 1 && Buffer.isBuffer(out[0])) {
      raw.write(out[0]);
      continue;
    }
    let buf = Buffer.allocUnsafe(client.outBytes);
    let at = 0;
    const chunks = [];
    for (let j = 0; j < out.length; j++) {
      const item = out[j];
      if (typeof item === "string") {
        at = writeHeader(buf, at, 0x1, Buffer.byteLength(item));
        at += buf.write(item, at);
      } else if (!Buffer.isBuffer(item)) {
        at = writeHeader(buf, at, 0x2, item.binary.length);
        at += item.binary.copy(buf, at);
      } else if (item.length > JOIN_LIMIT) {
        if (at > 0) chunks.push(buf.subarray(0, at));
        chunks.push(item);
        buf = buf.subarray(at);
        at = 0;
      } else {
        at += item.copy(buf, at);
      }
    }
    if (at > 0) chunks.push(buf.subarray(0, at));
    if (chunks.length === 1) raw.write(chunks[0]);
    else {
      raw.cork();
      for (let j = 0; j < chunks.length; j++) raw.write(chunks[j]);
      raw.uncork();
    }
  }
}

function headerSize(length) {
  return length < 126 ? 2 : length < 0x10000 ? 4 : 10;
}

/** Writes an unmasked final frame header at `at`; returns the offset after it. */
function writeHeader(buf, at, opcode, length) {
  buf[at] = 0x80 | opcode;
  if (length < 126) {
    buf[at + 1] = length;
    return at + 2;
  }
  if (length < 0x10000) {
    buf[at + 1] = 126;
    buf.writeUInt16BE(length, at + 2);
    return at + 4;
  }
  buf[at + 1] = 127;
  buf.writeUInt32BE(0, at + 2);
  buf.writeUInt32BE(length, at + 6);
  return at + 10;
}

function header(opcode, length) {
  const h = Buffer.allocUnsafe(headerSize(length));
  writeHeader(h, 0, opcode, length);
  return h;
}

/** A whole unmasked text frame in one buffer. */
function textFrame(text) {
  const length = Buffer.byteLength(text);
  const frame = Buffer.allocUnsafe(headerSize(length) + length);
  frame.write(text, writeHeader(frame, 0, 0x1, length));
  return frame;
}

const PING_FRAME = textFrame("2");

// ---------------------------------------------------------------- read path

function onMessage(data, isBinary) {
  const client = this[kClient];
  if (isBinary) return onAttachment(client, data);
  const type = data[0];
  if (type === 0x34) onSocketPacket(client, data.toString("utf8", 1)); // "4": message
  else if (type === 0x33) client.pongDue = false; // "3": pong
  else if (type === 0x31) this.close(); // "1": close
  else protocolError(client);
}

function onSocketPacket(client, text) {
  switch (text.charCodeAt(0)) {
    case 0x32: // "2": EVENT
      return onEvent(client, text);
    case 0x35: // "5": BINARY_EVENT
      return onBinaryEvent(client, text);
    case 0x30: // "0": CONNECT
      return onConnect(client, text);
    case 0x31: // "1": DISCONNECT
      return leave(client);
    default:
      return protocolError(client);
  }
}

function onConnect(client, text) {
  if (text.length > 1 && text.charCodeAt(1) === 0x2f /* "/" */) {
    // Only "/" exists here.
    const comma = text.indexOf(",");
    const nsp = comma === -1 ? text.slice(1) : text.slice(1, comma);
    return sendText(client, `44${nsp},{"message":"Invalid namespace"}`);
  }
  const auth = text.length > 1 ? parseJson(client, text.slice(1)) : undefined;
  if (auth === null) return;
  client.joined = true;
  joined.add(client);
  if (auth?.half) {
    client.half = true;
    room.add(client);
  }
  sendText(client, `40{"sid":"${newId()}"}`);
}

/** Reads the digits at `i`; returns [id string, index after them]. */
function readId(text, i) {
  const start = i;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    i++;
  }
  return [text.slice(start, i), i];
}

function onEvent(client, text) {
  if (!client.joined) return protocolError(client);
  const [id, at] = readId(text, 1);
  const args = parseJson(client, text.slice(at));
  if (args === null) return;
  if (!Array.isArray(args) || typeof args[0] !== "string") return protocolError(client);
  if (args[0] === "echo" && id !== "") sendText(client, `43${id}${JSON.stringify(args.slice(1, 2))}`);
}

function onBinaryEvent(client, text) {
  if (!client.joined || client.binary) return protocolError(client);
  const dash = text.indexOf("-");
  const count = Number(text.slice(1, dash));
  if (dash < 2 || !Number.isInteger(count) || count < 1 || count > 10) return protocolError(client);
  const [id, at] = readId(text, dash + 1);
  const args = parseJson(client, text.slice(at));
  if (args === null) return;
  if (!Array.isArray(args) || typeof args[0] !== "string") return protocolError(client);
  client.binary = { id, count, args, attachments: [] };
}

function onAttachment(client, data) {
  const pending = client.binary;
  if (!pending) return protocolError(client);
  pending.attachments.push(data);
  if (pending.attachments.length < pending.count) return;
  client.binary = undefined;
  if (pending.args[0] !== "echo" || pending.id === "") return;
  // The echoed argument keeps its placeholders and the attachments keep their order.
  const reply = pending.args.slice(1, 2);
  sendText(client, `46${pending.count}-${pending.id}${JSON.stringify(reply)}`);
  for (const a of pending.attachments) sendBinary(client, a);
}

function parseJson(client, text) {
  try {
    return JSON.parse(text);
  } catch {
    protocolError(client);
    return null;
  }
}

function protocolError(client) {
  client.ws.terminate();
}

function leave(client) {
  client.joined = false;
  joined.delete(client);
  room.delete(client);
}

// ---------------------------------------------------------------- sessions

function onOpen(ws) {
  const client = new Client(ws);
  ws[kClient] = client;
  clients.add(client);
  ws.on("message", onMessage);
  ws.on("close", onClose);
  ws.on("error", onError);
  sendText(client, `0{"sid":"${client.sid}","upgrades":[],"pingInterval":${PING_INTERVAL},"pingTimeout":20000,"maxPayload":${MAX_PAYLOAD}}`);
}

function onClose() {
  const client = this[kClient];
  leave(client);
  clients.delete(client);
  sessionClosed();
}

function onError() {
  // The close event follows; nothing to report.
}

// One shared heartbeat timer: a client that has not answered the previous ping is dropped.
const heartbeat = setInterval(() => {
  for (const client of clients) {
    if (client.pongDue) client.ws.terminate();
    else {
      client.pongDue = true;
      sendFrame(client, PING_FRAME);
    }
  }
}, PING_INTERVAL);

function broadcast(target, payload) {
  const frame = textFrame(`42["bc",${JSON.stringify(payload)}]`);
  for (const client of target === "room" ? room : joined) sendFrame(client, frame);
}

// ---------------------------------------------------------------- HTTP

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_PAYLOAD, clientTracking: false });

const httpServer = createServer((_req, res) => {
  // Polling is not spoken here.
  res.writeHead(400, { "Content-Type": "application/json" });
  res.end('{"code":0,"message":"Transport unknown"}');
});

httpServer.on("upgrade", (req, socket, head) => {
  const url = req.url ?? "";
  if (!url.startsWith("/socket.io/?") || !url.includes("EIO=4") || !url.includes("transport=websocket")) {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, onOpen);
});

const sessionClosed = serveControl({
  clientsCount: () => clients.size,
  emit: broadcast,
  close: () => {
    clearInterval(heartbeat);
    for (const client of clients) client.ws.terminate();
    httpServer.close();
  },
});

httpServer.listen(Number(portArg), "127.0.0.1", () => announce(httpServer.address().port));
