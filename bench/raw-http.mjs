// A minimal HTTP/1.1 keep-alive client on one TCP connection, for the polling load generator:
// node's http client costs more CPU per request than the servers under test, which made
// the client the bottleneck. One request at a time; bodies are text; Content-Length and
// chunked responses are understood; every request is bounded by a timeout.
import net from "node:net";

const CRLF2 = Buffer.from("\r\n\r\n");

export class RawHttp {
  constructor(host, port, timeoutMs = 15_000) {
    this.host = host;
    this.port = port;
    this.timeoutMs = timeoutMs;
    this.socket = undefined;
    this.pending = undefined; // { resolve, reject, timer }
    this.buf = Buffer.alloc(0);
    this.closeAfter = false;
  }

  /** Sends one request; resolves with { status, body } (body as UTF-8 text). */
  request(method, path, body) {
    if (this.pending) return Promise.reject(new Error("RawHttp: one request at a time"));
    const socket = this.socket ?? this.connect();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`${method} ${path} timed out`)), this.timeoutMs);
      this.pending = { resolve, reject, timer };
      let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n`;
      if (body === undefined) socket.write(`${head}\r\n`);
      else {
        head += `Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
        socket.write(head + body);
      }
    });
  }

  close() {
    this.socket?.destroy();
    this.socket = undefined;
  }

  connect() {
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    // Events of a socket this client already replaced or closed are ignored.
    socket.on("data", (chunk) => {
      if (this.socket !== socket) return;
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.parse();
    });
    socket.on("error", (err) => this.socket === socket && this.fail(err));
    socket.on("close", () => this.socket === socket && this.fail(new Error("connection closed")));
    return socket;
  }

  fail(err) {
    const p = this.pending;
    this.pending = undefined;
    this.close();
    if (p) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  /** Completes the pending request once its whole response is buffered. */
  parse() {
    const buf = this.buf;
    const end = buf.indexOf(CRLF2);
    if (end === -1) return;
    const head = buf.toString("latin1", 0, end);
    const lines = head.split("\r\n");
    const status = Number(lines[0].split(" ")[1]);
    let length = -1;
    let chunked = false;
    let close = false;
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(":");
      const name = lines[i].slice(0, colon).trim().toLowerCase();
      const value = lines[i].slice(colon + 1).trim().toLowerCase();
      if (name === "content-length") length = Number(value);
      else if (name === "transfer-encoding") chunked = value.includes("chunked");
      else if (name === "connection") close = value === "close";
    }
    const start = end + 4;
    let body;
    let after;
    if (chunked) {
      const parts = [];
      let at = start;
      for (;;) {
        const eol = buf.indexOf("\r\n", at);
        if (eol === -1) return;
        const size = parseInt(buf.toString("latin1", at, eol), 16);
        if (!(size >= 0)) return this.fail(new Error("bad chunk size"));
        if (buf.length < eol + 2 + size + 2) return;
        if (size === 0) {
          after = eol + 4; // no trailers expected
          break;
        }
        parts.push(buf.subarray(eol + 2, eol + 2 + size));
        at = eol + 2 + size + 2;
      }
      body = Buffer.concat(parts).toString("utf8");
    } else {
      if (length < 0) length = 0;
      if (buf.length < start + length) return;
      body = buf.toString("utf8", start, start + length);
      after = start + length;
    }
    this.buf = buf.subarray(after);
    const p = this.pending;
    this.pending = undefined;
    if (close) this.close();
    if (p) {
      clearTimeout(p.timer);
      p.resolve({ status, body });
    }
  }
}
