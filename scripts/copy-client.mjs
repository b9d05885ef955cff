// Copies the browser client bundles from the socket.io-client package into dist/client-dist,
// with the client's version and this package's (the ETag, as socket.io's is its own version),
// so that the published package needs no client at run time.
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const pkgFile = require.resolve("socket.io-client/package.json");
const { version } = JSON.parse(readFileSync(pkgFile, "utf8"));
const from = join(dirname(pkgFile), "dist");
// Target folder: dist/client-dist by default, or the folder given (the test build uses its own).
const to = new URL(process.argv[2] ? `../${process.argv[2]}/` : "../dist/client-dist/", import.meta.url);
mkdirSync(to, { recursive: true });
for (const name of readdirSync(from)) {
  if (name.startsWith("socket.io.")) copyFileSync(join(from, name), new URL(name, to));
}
const server = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
writeFileSync(new URL("version.json", to), JSON.stringify({ version, server }) + "\n");
