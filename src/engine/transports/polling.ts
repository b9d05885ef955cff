import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { Transport, type EngineRequest, type TransportName } from "../transport";
import { encodePayload, type DecodedPacket, type Packet } from "../packet";
import { encodePayloadV3 } from "../payload-v3";
import { chooseEncoding } from "../../internal/accept-encoding";
import { compress, type HttpCompressionOptions } from "../compression";
import { ErrorCode, errorJson } from "../errors";
import { compactListeners } from "../../internal/listener-table";
import { COMPRESSION_THRESHOLD, JSON_CONTENT_TYPE } from "../constants";

const BAD_REQUEST_BODY = errorJson(ErrorCode.BAD_REQUEST);

/** Shared, never changed: what a poll is answered with when there is nothing else to say. */
const NOOP: readonly Packet[] = [{ type: "noop" }];
const CLOSE: readonly Packet[] = [{ type: "close" }];
/** The answer to the poll a close waited for: the body is "6\x1e1", as engine.io answers. */
const NOOP_THEN_CLOSE: readonly Packet[] = [{ type: "noop" }, { type: "close" }];

/**
 * Where a polling transport is. `idle`: no GET waits. `polling`: a GET waits (the only
 * writable state). `closeWaiting`: closed by the session with no GET to carry the close
 * packet; the next GET carries it, or the close timer ends the wait. `closed`: done.
 */
export type PollingState = "idle" | "polling" | "closeWaiting" | "closed";

/**
 * HTTP long-polling. At most one GET (waiting for packets) and one POST (carrying
 * packets) are in flight; a second of either is a protocol violation. Everything the
 * engine socket flushes while a GET waits goes out as one response.
 */
export class Polling extends Transport {
  static override upgradesTo: readonly string[] = ["websocket"];

  maxHttpBufferSize = 1e6;
  httpCompression: HttpCompressionOptions | false = false;
  /** How long a close waits for the client's next poll to carry the close packet, in ms. */
  closeTimeout = 30_000;

  private state: PollingState = "idle";
  /** The waiting GET, in state `polling`. */
  private pollReq: IncomingMessage | undefined;
  private pollRes: ServerResponse | undefined;
  private dataReq: IncomingMessage | undefined;
  /** In state `closeWaiting`: the close's end (its callback, then `close`) and the timer that forces it. */
  private closeWaitDone: (() => void) | undefined;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(req: EngineRequest) {
    super(req);
    // The server always listens for "headers" on a polling transport.
    compactListeners(this);
  }

  get name(): TransportName {
    return "polling";
  }

  override get writable(): boolean {
    return this.state === "polling";
  }

  override onRequest(req: EngineRequest, res?: ServerResponse): void {
    const response = res ?? req.res;
    if (!response) return;
    if (req.method === "GET") this.onPollRequest(req, response);
    else if (req.method === "POST") this.onDataRequest(req, response);
    else refuse(response, 400);
  }

  private onPollRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.state === "polling") {
      refuse(res, 400);
      this.onError("overlap from client");
      return;
    }
    const waitingClose = this.state === "closeWaiting" ? this.closeWaitDone : undefined;
    this.pollReq = req;
    this.pollRes = res;
    this.state = "polling";
    res.once("close", () => {
      if (this.pollRes === res) {
        this.pollReq = this.pollRes = undefined;
        this.state = "idle";
        this.onError("poll connection closed prematurely");
      }
    });
    if (waitingClose) {
      this.send(NOOP_THEN_CLOSE);
      waitingClose();
      return;
    }
    this.onReady();
  }

  /** engine.io's name for it: tests wrap it on a transport. */
  protected onDataRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.dataReq) {
      refuse(res, 400);
      this.onError("data request overlap from client");
      return;
    }
    const isBinary = req.headers["content-type"] === "application/octet-stream";
    if (isBinary && this.protocol === 4) {
      refuse(res, 400);
      this.onError("invalid content");
      return;
    }
    const declared = Number(req.headers["content-length"]);
    // A body over the limit is refused, the session kept, as engine.io does: its client
    // then gives up the session itself ("transport error" there, "transport close" here).
    if (declared > this.maxHttpBufferSize) {
      refuse(res, 413);
      return;
    }
    this.dataReq = req;
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => {
      req.off("data", onChunk);
      req.off("end", onEnd);
      req.off("close", onClose);
      if (this.dataReq === req) this.dataReq = undefined;
    };
    const onChunk = (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.maxHttpBufferSize) {
        finish();
        refuse(res, 413);
        req.resume();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      finish();
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      this.onData(isBinary ? body : this.bodyText(body));
      const headers = this.headers(req, { "Content-Type": "text/html", "Content-Length": "2" });
      res.writeHead(200, headers);
      res.end("ok");
    };
    const onClose = () => finish();
    req.on("data", onChunk);
    req.once("end", onEnd);
    req.once("close", onClose);
  }

  /** The text payload inside a POST body; JSONP overrides it to unwrap its form field. */
  protected bodyText(body: Buffer): string | undefined {
    return body.toString("utf8");
  }

  protected onData(payload: string | Buffer | undefined): void {
    if (payload === undefined) {
      this.onPacket({ type: "error", data: "parser error" });
      return;
    }
    const packets: DecodedPacket[] = this.decodeMany(payload);
    for (const packet of packets) {
      if (packet.type === "close") {
        this.onClose();
        return;
      }
      this.onPacket(packet);
      if (this.readyState === "closed") return;
    }
  }

  /** Answers the waiting GET with `packets` (left as they are); without one, does nothing. */
  send(packets: readonly Packet[], onWritten?: () => void): void {
    const res = this.pollRes;
    const req = this.pollReq;
    if (this.state !== "polling" || !res || !req) return;
    this.pollRes = this.pollReq = undefined;
    this.state = "idle";
    const body = this.encode(packets);
    const wantsCompression = packets.some((p) => p.options?.compress !== false);
    this.respond(req, res, body, wantsCompression, onWritten);
  }

  protected encode(packets: readonly Packet[]): string | Buffer {
    return this.protocol === 4 ? encodePayload(packets) : encodePayloadV3(packets, this.supportsBinary);
  }

  protected contentType(body: string | Buffer): string {
    return typeof body === "string" ? "text/plain; charset=UTF-8" : "application/octet-stream";
  }

  private respond(
    req: IncomingMessage,
    res: ServerResponse,
    body: string | Buffer,
    wantsCompression: boolean,
    onWritten?: () => void,
  ): void {
    const headers = this.headers(req, { "Content-Type": this.contentType(body) });
    const options = this.httpCompression;
    const length = typeof body === "string" ? Buffer.byteLength(body) : body.length;
    const encoding =
      options && wantsCompression && length >= (options.threshold ?? COMPRESSION_THRESHOLD)
        ? chooseEncoding(req.headers["accept-encoding"])
        : undefined;
    if (!encoding || !options) {
      headers["Content-Length"] = length;
      res.writeHead(200, headers);
      res.end(body, onWritten);
      return;
    }
    compress(encoding, typeof body === "string" ? Buffer.from(body) : body, options, (err, compressed) => {
      if (res.destroyed) return;
      if (err) {
        res.writeHead(500);
        res.end();
        return;
      }
      headers["Content-Encoding"] = encoding;
      headers["Content-Length"] = compressed.length;
      res.writeHead(200, headers);
      res.end(compressed, onWritten);
    });
  }

  protected doClose(fn: () => void): void {
    if (this.dataReq) {
      this.dataReq.destroy();
      this.dataReq = undefined;
    }
    const done = () => {
      if (this.closeTimer) clearTimeout(this.closeTimer);
      this.closeTimer = undefined;
      this.closeWaitDone = undefined;
      fn();
      this.onClose();
    };
    if (this.state === "polling") {
      // A waiting GET always learns of the close, even when discarded by engine.close()
      // (as engine.io does); a client that already moved to an upgrade ignores it.
      this.send(CLOSE);
      done();
    } else if (this.discarded || this.sink === undefined) {
      // Nothing to answer: close at once rather than wait for a poll that may never come.
      // Without a sink the session has already ended (ping timeout, transport error) and
      // left the server's list, so no later poll could reach this transport anyway.
      done();
    } else {
      this.state = "closeWaiting";
      this.closeWaitDone = done;
      // Only a cleanup: it must not keep a process alive whose server has closed.
      this.closeTimer = setTimeout(done, this.closeTimeout).unref();
    }
  }

  /**
   * The headers every polling response gets, as engine.io writes them (names included),
   * then those of `headers` listeners (the server's: cookie, `initial_headers`, `headers`).
   */
  private headers(req: IncomingMessage, headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
    // Internet Explorer's XSS filter can mangle a response: turn it off for IE 8 to 11.
    const ua = req.headers["user-agent"];
    if (ua !== undefined && (ua.includes(";MSIE") || ua.includes("Trident/"))) headers["X-XSS-Protection"] = "0";
    headers["cache-control"] = "no-store";
    return this.emitHeaders(headers, req);
  }

  override releasePoll(): void {
    this.send(NOOP);
  }

  /** A GET still waiting when the session ends learns it from a close packet. */
  protected override onClose(): void {
    this.send(this.discarded ? NOOP : CLOSE);
    this.state = "closed";
    super.onClose();
  }
}

function refuse(res: ServerResponse, status: 400 | 413): void {
  if (res.headersSent) return;
  if (status === 413) {
    res.writeHead(413, { Connection: "close", "Content-Type": JSON_CONTENT_TYPE });
    res.end(errorJson(ErrorCode.BAD_REQUEST, "Payload too large"));
    return;
  }
  res.writeHead(400, { "Content-Type": JSON_CONTENT_TYPE });
  res.end(BAD_REQUEST_BODY);
}
