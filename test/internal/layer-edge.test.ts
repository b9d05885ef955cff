/**
 * The layer edge: the socket layer (src/*.ts, src/adapter/, src/parser/) reaches the engine
 * only through its public module, src/engine/index.ts, and src/internal/ is shared by both
 * layers without depending on either. Read from the sources' import specifiers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** The repository root, from build/test/internal/ where the test runs compiled. */
const ROOT = resolve(__dirname, "../../..");
const SRC = join(ROOT, "src");

/** Every module specifier of a TypeScript source: static imports and exports, `import()`, `require()`. */
export function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]);
  return found;
}

function tsFiles(dir: string, deep: boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (deep) out.push(...tsFiles(path, deep));
    } else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** The src-relative path a relative specifier of `file` names (without extension), or undefined for a package. */
function target(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  return relative(SRC, resolve(dirname(file), specifier)).replace(/\\/g, "/").replace(/\.(js|ts)$/, "");
}

/** The imports of `files` for which `allowed` says no, as "file: specifier". */
function violations(files: string[], allowed: (to: string) => boolean): string[] {
  const bad: string[] = [];
  for (const file of files) {
    for (const specifier of importSpecifiers(readFileSync(file, "utf8"))) {
      const to = target(file, specifier);
      if (to !== undefined && !allowed(to)) bad.push(`${relative(ROOT, file)}: ${specifier}`);
    }
  }
  return bad;
}

const socketLayer = () => [...tsFiles(SRC, false), ...tsFiles(join(SRC, "adapter"), true), ...tsFiles(join(SRC, "parser"), true)];

test("the specifier reader finds every form of import", () => {
  const source = [
    'import { a } from "./a";',
    'import type { B } from "../engine/b";',
    "import {\n  c,\n  type D,\n} from './c';",
    'export { e } from "./e";',
    'export * from "./f";',
    'import "./g";',
    'const h = await import("./h");',
    'const i = require("./i");',
    'const text = "from the wire";',
  ].join("\n");
  assert.deepEqual(importSpecifiers(source).sort(), ["../engine/b", "./a", "./c", "./e", "./f", "./g", "./h", "./i"]);
});

test("the socket layer imports nothing from src/engine/ but src/engine/index", () => {
  const files = socketLayer();
  assert.ok(files.some((f) => f.endsWith(join("src", "client.ts"))), `sources found under ${SRC}`);
  const bad = violations(files, (to) => !to.startsWith("engine/") || to === "engine/index");
  assert.deepEqual(bad, []);
});

test("src/internal/ depends on neither layer", () => {
  const bad = violations(tsFiles(join(SRC, "internal"), true), (to) => to.startsWith("internal/"));
  assert.deepEqual(bad, []);
});
