// The socket benchmark's WebSocket client: a raw RFC 6455 client on node:net that speaks
// Engine.IO v4 + Socket.IO v5 itself. With the `ws` client (HTTP upgrade, SHA-1 accept check,
// its frame parser and sender) the load generator cost about as much CPU per echo or
// handshake as the servers under test, so on a 2-core machine it was the bottleneck.
// Client frames are masked with a zero key (RFC 6455 requires a key, not a random one; the
// servers' `ws` then skips the XOR) except where a scenario supplies pre-masked bytes.
// Frames are checked by their bytes in the scenarios (bench/socket-load.mjs).
import net from "node:net";
import { within } from "./engine-load.mjs";

const HOST = "127.0.0.1";
const CH_0 = 0x30;
const CH_2 = 0x32;
const CH_4 = 0x34;
/** Queued frames up to this size are joined into the flush buffer; larger ones are written as is. */
const JOIN_LIMIT = 16 * 1024;
const CRLF2 = Buffer.from("\r\n\r\n");
/** "3" (pong) in a text frame masked with a zero key. */
const PONG_FRAME = Buffer.from([0x81, 0x81, 0, 0, 0, 0, 0x33]);
/**
 * The other headers a browser (Chromium 120 on Linux) sends with a WebSocket upgrade: what
 * a server keeps per connection when it keeps the request.
 */
export const BROWSER_HEADERS =
  "Pragma: no-cache\r\nCache-Control: no-cache\r\n" +
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n" +
  "Origin: http://localhost:3000\r\nAccept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n" +
  "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";

/** A close frame (no status) masked with a zero key. */
const CLOSE_FRAME = Buffer.from([0x88, 0x80, 0, 0, 0, 0]);

/**
 * Opens an Engine.IO v4 session over WebSocket at `path` and joins namespace "/" (CONNECT
 * with `auth` when given); resolves with a RawPeer once the server's `40{"sid":...}` arrived.
 * From then on `onFrame(peer, opcode, payload)` gets every frame but pings (answered).
 * `headers`: more request header lines, each ending in CRLF (see BROWSER_HEADERS).
 */
export function connectRaw(port, path, { auth, onFrame = () => {}, headers = "" } = {}) {
  return new Promise((resolve, reject) => {
    // Reads land in one buffer shared by every socket (`onread`: no stream, no Buffer per
    // read); whatever must outlive the callback is copied.
    let onBytes;
    const socket = net.connect({
      host: HOST,
      port,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (n, buf) => void onBytes(buf.subarray(0, n)) },
    });
    let state = 0; // 0: upgrade response, 1: open packet, 2: CONNECT, 3: connected or failed
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error("Socket.IO connect timed out")), 15_000);
    const fail = (err) => {
      clearTimeout(timer);
      if (state === 3) return;
      state = 3; // settle once
      socket.destroy();
      reject(err);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("closed before CONNECT")));
    // The key need not be random for a server; a fixed one keeps the client cheap.
    socket.write(
      `GET ${path}?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${HOST}:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${headers}\r\n`,
    );
    const handshake = (peer, opcode, data) => {
      if (state === 1) {
        if (opcode !== 0x1 || data[0] !== CH_0 || data[1] !== 0x7b) return fail(new Error(`expected an open packet, got ${String(data).slice(0, 60)}`));
        state = 2;
        peer.sendText(auth === undefined ? "40" : `40${JSON.stringify(auth)}`);
        return;
      }
      if (opcode !== 0x1 || data[0] !== CH_4 || data[1] !== CH_0 || data[2] !== 0x7b) return fail(new Error(`expected CONNECT, got ${String(data).slice(0, 60)}`));
      state = 3;
      clearTimeout(timer);
      socket.removeAllListeners("close");
      socket.removeAllListeners("error");
      socket.on("error", () => {}); // a reset at the end of a run is not a failure
      peer.onFrame = onFrame;
      resolve(peer);
    };
    onBytes = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(CRLF2);
      if (end === -1) {
        if (head.length > 4096) fail(new Error("upgrade response too long"));
        return;
      }
      const status = head.toString("latin1", 0, head.indexOf("\r\n"));
      if (!status.startsWith("HTTP/1.1 101")) return fail(new Error(`upgrade refused: ${status}`));
      state = 1;
      const peer = new RawPeer(socket, handshake);
      onBytes = (bytes) => peer.receive(bytes);
      if (end + 4 < head.length) peer.receive(head.subarray(end + 4));
    };
  });
}

const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

let touched = [];
function flushPeers() {
  const list = touched;
  touched = [];
  for (let i = 0; i < list.length; i++) list[i].flush();
}

/**
 * WebSocket frames on a TCP socket after the upgrade; `receive(bytes)` is fed what the
 * socket reads (a view valid during the call only). `onFrame(peer, opcode, payload)` gets
 * every complete server frame but pings (answered here); `payload` is valid during the call
 * only. Writes made in one event-loop turn leave together, in one write per peer, flushed in
 * one process.nextTick for all peers.
 */
export class RawPeer {
  constructor(socket, onFrame) {
    this.socket = socket;
    this.onFrame = onFrame;
    this.out = []; // strings (text frames to build) and Buffers (whole client frames)
    this.outBytes = 0;
    this.queued = false;
    this.carry = []; // bytes of an incomplete frame
    this.carried = 0;
    this.need = 2; // bytes needed before the carried frame can be looked at again
  }

  /** Queues a text frame. */
  sendText(text) {
    const length = Buffer.byteLength(text);
    this.out.push(text);
    this.outBytes += (length < 126 ? 6 : length < 0x10000 ? 8 : 14) + length;
    this.schedule();
  }

  /** Queues bytes that already form whole client frames. */
  sendFrame(bytes) {
    this.out.push(bytes);
    if (bytes.length <= JOIN_LIMIT) this.outBytes += bytes.length;
    this.schedule();
  }

  schedule() {
    if (this.queued) return;
    this.queued = true;
    if (touched.push(this) === 1) process.nextTick(flushPeers);
  }

  flush() {
    this.queued = false;
    const out = this.out;
    this.out = [];
    const total = this.outBytes;
    this.outBytes = 0;
    if (this.socket.destroyed) return;
    let buf = Buffer.allocUnsafe(total);
    const chunks = [];
    let at = 0;
    for (const item of out) {
      if (typeof item === "string") {
        const length = Buffer.byteLength(item);
        buf[at] = 0x81;
        if (length < 126) {
          buf[at + 1] = 0x80 | length;
          at += 2;
        } else if (length < 0x10000) {
          buf[at + 1] = 0x80 | 126;
          buf.writeUInt16BE(length, at + 2);
          at += 4;
        } else {
          buf[at + 1] = 0x80 | 127;
          buf.writeUInt32BE(0, at + 2);
          buf.writeUInt32BE(length, at + 6);
          at += 10;
        }
        buf.writeUInt32BE(0, at); // zero masking key
        at += 4;
        at += buf.write(item, at);
      } else if (item.length <= JOIN_LIMIT) {
        at += item.copy(buf, at);
      } else {
        if (at > 0) chunks.push(buf.subarray(0, at));
        chunks.push(item);
        buf = buf.subarray(at);
        at = 0;
      }
    }
    if (at > 0) chunks.push(buf.subarray(0, at));
    if (chunks.length === 1) this.socket.write(chunks[0]);
    else {
      this.socket.cork();
      for (const c of chunks) this.socket.write(c);
      this.socket.uncork();
    }
  }

  receive(chunk) {
    let buf = chunk;
    if (this.carried > 0) {
      this.carry.push(Buffer.from(chunk)); // the read buffer is reused
      this.carried += chunk.length;
      if (this.carried < this.need) return;
      buf = Buffer.concat(this.carry, this.carried);
      this.carry = [];
      this.carried = 0;
    }
    let i = 0;
    for (;;) {
      const left = buf.length - i;
      if (left < 2) {
        this.need = 2;
        break;
      }
      let length = buf[i + 1] & 0x7f;
      let h = 2;
      if (length === 126) {
        h = 4;
        if (left < h) {
          this.need = h;
          break;
        }
        length = buf.readUInt16BE(i + 2);
      } else if (length === 127) {
        h = 10;
        if (left < h) {
          this.need = h;
          break;
        }
        length = buf.readUInt32BE(i + 2) * 2 ** 32 + buf.readUInt32BE(i + 6);
      }
      if (left < h + length) {
        this.need = h + length;
        break;
      }
      const opcode = buf[i] & 0x0f;
      const start = i + h;
      i = start + length;
      if (opcode === 0x1 && length === 1 && buf[start] === CH_2) this.socket.write(PONG_FRAME);
      else if (opcode === 0x8) this.socket.end(); // the server closes: no more frames
      else this.onFrame(this, opcode, buf.subarray(start, i));
    }
    if (i < buf.length) {
      // The read buffer is reused: keep a copy.
      this.carry.push(Buffer.from(buf.subarray(i)));
      this.carried = buf.length - i;
    }
  }
}

/**
 * Closes peers: a close frame, then the end of the TCP stream (the servers' `ws` closes on
 * either); waits, bounded, until every socket is closed, then destroys what is left.
 */
export async function closeAll(peers, ms = 15_000) {
  const closed = peers.map((p) => new Promise((resolve) => (p.socket.closed ? resolve() : p.socket.once("close", resolve))));
  for (const p of peers) {
    if (p.socket.destroyed) continue;
    p.socket.write(CLOSE_FRAME);
    p.socket.end();
  }
  try {
    await within(Promise.all(closed), ms, "closing WebSocket clients");
  } finally {
    for (const p of peers) p.socket.destroy();
  }
}

/** A final binary client frame of `payload`, masked with `mask` (RFC 6455 §5.3), built once. */
export function maskedBinaryFrame(payload, mask) {
  const n = payload.length;
  const ext = n < 126 ? 0 : n < 0x10000 ? 2 : 8;
  const frame = Buffer.alloc(2 + ext + 4 + n);
  frame[0] = 0x82;
  if (ext === 0) frame[1] = 0x80 | n;
  else if (ext === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    frame.writeUInt32BE(n >>> 0, 6);
  }
  const at = 2 + ext;
  mask.copy(frame, at);
  for (let i = 0; i < n; i++) frame[at + 4 + i] = payload[i] ^ mask[i & 3];
  return frame;
}
