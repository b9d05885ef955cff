import { validateHeaderValue } from "node:http";
import { ErrorCode, type ErrorCodeValue, type ErrorContext } from "./errors";
import { protocolOf, queryValue, sidOf, type Query } from "./query";
import type { TransportName } from "./transport";

/** Why a request is refused: the code (and its message) the client gets, and detail for `connection_error`. */
export interface Refusal {
  code: ErrorCodeValue;
  context: ErrorContext;
}

/** A request the checks let through. */
export const OK = "ok";

export type Verdict = Refusal | typeof OK;

/** What the checks read of a request (an `EngineRequest` is one). */
export interface VerifiedRequest {
  _query: Query;
  method?: string;
  headers: { origin?: string };
}

/** What the checks read of the server (the engine `Server` is one). */
export interface VerifyingServer {
  readonly opts: { readonly transports: readonly TransportName[] };
  readonly closing: boolean;
  /** Open sessions by id: their transport's name and revision are checked against the request. */
  readonly clients: Readonly<Record<string, { readonly transport: { readonly name: string }; readonly protocol: 3 | 4 }>>;
}

/**
 * The refusal decision for a request (`upgrade`: a WebSocket upgrade), in engine.io's order of
 * checks: transport, Origin header, then the session (unknown id, transport mismatch) or, for
 * a handshake, the method and the transport. A handshake the checks let through goes to
 * `allowRequest`, then to `verifyProtocol`. Pure: reads its arguments, does no I/O.
 */
export function verify(req: VerifiedRequest, upgrade: boolean, server: VerifyingServer): Verdict {
  const query = req._query;
  const transport = queryValue(query, "transport");
  if (transport === undefined || !server.opts.transports.includes(transport as TransportName)) {
    return refusal(ErrorCode.UNKNOWN_TRANSPORT, { transport });
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !isValidHeaderValue(origin)) {
    return refusal(ErrorCode.BAD_REQUEST, { name: "INVALID_ORIGIN", origin });
  }
  const sid = sidOf(query);
  if (sid !== undefined) {
    if (!Object.hasOwn(server.clients, sid)) return refusal(ErrorCode.UNKNOWN_SID, { sid });
    const client = server.clients[sid];
    const previousTransport = client.transport.name;
    if (upgrade ? transport !== "websocket" : previousTransport !== transport) {
      return refusal(ErrorCode.BAD_REQUEST, { name: "TRANSPORT_MISMATCH", transport, previousTransport });
    }
    // A polling session keeps the revision it was opened with whatever later requests say
    // (as engine.io 6.6.9 does); a WebSocket for another revision would garble it.
    const protocol = protocolOf(query);
    if (upgrade && client.protocol !== protocol) {
      return refusal(ErrorCode.BAD_REQUEST, { name: "PROTOCOL_MISMATCH", protocol, previousProtocol: client.protocol });
    }
    return OK;
  }
  if (req.method !== "GET") return refusal(ErrorCode.BAD_HANDSHAKE_METHOD, { method: req.method });
  if (server.closing) return refusal(ErrorCode.BAD_REQUEST, { name: "SERVER_CLOSING" });
  if ((transport === "websocket") !== upgrade) return refusal(ErrorCode.BAD_REQUEST, { name: "TRANSPORT_HANDSHAKE_ERROR" });
  return OK;
}

/** A handshake's revision: 4, or 3 (also when `EIO` is missing or other) with `allowEIO3`. */
export function verifyProtocol(query: Query, allowEIO3: boolean): Verdict {
  const protocol = protocolOf(query);
  return protocol === 3 && !allowEIO3 ? refusal(ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, { protocol }) : OK;
}

/** RFC 7230 field-value characters only, as Node checks the headers it writes. */
function isValidHeaderValue(value: string): boolean {
  try {
    validateHeaderValue("origin", value);
    return true;
  } catch {
    return false;
  }
}

function refusal(code: ErrorCodeValue, context: ErrorContext): Refusal {
  return { code, context };
}
