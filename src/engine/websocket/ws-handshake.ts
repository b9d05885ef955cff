import * as crypto from "node:crypto";
import type { IncomingMessage } from "node:http";

/**
 * The server side of the WebSocket opening handshake (RFC 6455 §4.2), without extensions.
 * Pure functions: the checks `ws` makes on an upgrade request, with its refusals (status
 * and message), and the 101 response head.
 */

const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const KEY_FORMAT = /^[+/0-9A-Za-z]{22}==$/;

export interface HandshakeRefusal {
  status: number;
  message: string;
  /** Header lines that follow Content-Length in the refusal, as `ws` writes them. */
  headerLines?: string[];
}

export interface HandshakeAccept {
  /** The Sec-WebSocket-Accept value. */
  accept: string;
  /** The subprotocol chosen (the client's first offer, as `ws` does by default), or "". */
  protocol: string;
}

export function checkUpgradeRequest(req: IncomingMessage): HandshakeAccept | HandshakeRefusal {
  if (req.method !== "GET") return { status: 405, message: "Invalid HTTP method" };
  const upgrade = req.headers.upgrade;
  if (upgrade === undefined || upgrade.toLowerCase() !== "websocket") return { status: 400, message: "Invalid Upgrade header" };
  const key = req.headers["sec-websocket-key"];
  if (key === undefined || !KEY_FORMAT.test(key)) return { status: 400, message: "Missing or invalid Sec-WebSocket-Key header" };
  const version = Number(req.headers["sec-websocket-version"]);
  if (version !== 8 && version !== 13) {
    return { status: 400, message: "Missing or invalid Sec-WebSocket-Version header", headerLines: ["Sec-WebSocket-Version: 13, 8"] };
  }
  const offered = req.headers["sec-websocket-protocol"];
  let protocol = "";
  if (offered !== undefined) {
    const first = firstProtocol(offered);
    if (first === undefined) return { status: 400, message: "Invalid Sec-WebSocket-Protocol header" };
    protocol = first;
  }
  return { accept: acceptKey(key), protocol };
}

export function acceptKey(key: string): string {
  return sha1Base64(key + ACCEPT_GUID);
}

/** One-shot `crypto.hash` (Node 20.12+) costs half of a Hash object; older Node 20s get the latter. */
const sha1Base64: (text: string) => string =
  typeof crypto.hash === "function"
    ? (text) => crypto.hash("sha1", text, "base64")
    : (text) => crypto.createHash("sha1").update(text).digest("base64");

/** The 101 head; `extraLines` (whole "Name: value" lines) go after the WebSocket ones. */
export function switchingProtocolsHead(handshake: HandshakeAccept, extraLines: readonly string[]): string {
  let head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${handshake.accept}\r\n`;
  if (handshake.protocol !== "") head += `Sec-WebSocket-Protocol: ${handshake.protocol}\r\n`;
  for (const line of extraLines) head += line + "\r\n";
  return head + "\r\n";
}

/**
 * The first name of a Sec-WebSocket-Protocol list (RFC 6455 §4.1: tokens separated by
 * commas and optional whitespace), or undefined if the list is malformed: an empty
 * element, a non-token character, two tokens without a comma, or a name given twice.
 * One pass, no backtracking.
 */
export function firstProtocol(header: string): string | undefined {
  const seen = new Set<string>();
  let first: string | undefined;
  let start = -1;
  let end = -1;
  for (let i = 0; i <= header.length; i++) {
    const c = i < header.length ? header.charCodeAt(i) : 0x2c;
    if (c === 0x2c) {
      if (start === -1) return undefined;
      const name = header.slice(start, end === -1 ? i : end);
      if (seen.has(name)) return undefined;
      seen.add(name);
      first ??= name;
      start = end = -1;
    } else if (c === 0x20 || c === 0x09) {
      if (start !== -1 && end === -1) end = i;
    } else if (isTokenChar(c) && end === -1) {
      if (start === -1) start = i;
    } else {
      return undefined;
    }
  }
  return first;
}

/** RFC 7230 tchar. */
function isTokenChar(c: number): boolean {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return true;
  return c < 0x7f && c > 0x20 && "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c));
}
