// Makes dist/index.js callable (`require("volley-io")(srv, opts)`) while keeping its named exports.
import { readFileSync, writeFileSync } from "node:fs";
const file = new URL("../dist/index.js", import.meta.url);
const marker = "/* volley: callable export */";
let src = readFileSync(file, "utf8");
if (!src.includes(marker)) {
  src += `\n${marker}\nmodule.exports = Object.assign(function volley(srv, opts) { return exports.createServer(srv, opts); }, exports);\n`;
  writeFileSync(file, src);
}
