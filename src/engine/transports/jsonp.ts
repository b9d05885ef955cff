import { Polling } from "./polling";
import type { Packet } from "../packet";
import type { EngineRequest } from "../transport";

/**
 * JSONP polling, used by revision 3 browsers without XHR: responses are a script
 * `___eio[<j>]("<payload>");`, requests are forms whose `d` field holds the payload.
 */
export class JsonpPolling extends Polling {
  private readonly head: string;

  constructor(req: EngineRequest) {
    super(req);
    this.supportsBinary = false;
    const index = String(req._query.j ?? "").replace(/[^0-9]/g, "");
    this.head = `___eio[${index}](`;
  }

  protected override encode(packets: readonly Packet[]): string {
    const payload = super.encode(packets) as string;
    // A JSON string is not always a valid JavaScript string: U+2028/9 end lines in scripts.
    const literal = JSON.stringify(payload).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
    return this.head + literal + ");";
  }

  protected override contentType(): string {
    return "text/javascript; charset=UTF-8";
  }

  protected override bodyText(body: Buffer): string | undefined {
    const d = new URLSearchParams(body.toString("utf8")).get("d");
    return d === null ? undefined : unescapeNewlines(d);
  }
}

/**
 * The client writes a newline as `\n` and a literal `\n` as `\\n`; undo both in one pass.
 */
export function unescapeNewlines(s: string): string {
  if (s.indexOf("\\n") === -1) return s;
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === "\\" && s[i + 1] === "\\" && s[i + 2] === "n") {
      out += "\\n";
      i += 3;
    } else if (c === "\\" && s[i + 1] === "n") {
      out += "\n";
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
