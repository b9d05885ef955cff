/** The attached path and which URLs it serves, as engine.io matches them. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { computePath, matchesPath } from "../../src/engine/attach";

test("computePath: /engine.io/ by default; a trailing slash is added unless addTrailingSlash is false", () => {
  assert.equal(computePath({}), "/engine.io/");
  assert.equal(computePath({ path: "/custom" }), "/custom/");
  assert.equal(computePath({ path: "/custom/" }), "/custom/");
  assert.equal(computePath({ path: "/custom/", addTrailingSlash: false }), "/custom");
  assert.equal(computePath({ addTrailingSlash: false }), "/engine.io");
});

test("matchesPath: a prefix match, or with exact only the path, its query or below it", () => {
  const rows: Array<[string | undefined, string, boolean, boolean]> = [
    ["/engine.io/?EIO=4", "/engine.io/", false, true],
    ["/engine.io/", "/engine.io/", false, true],
    ["/engine.io?EIO=4", "/engine.io/", false, false],
    ["/engine.iox/", "/engine.io/", false, false],
    [undefined, "/engine.io/", false, false],
    ["/engine.io", "/engine.io", true, true],
    ["/engine.io?EIO=4", "/engine.io", true, true],
    ["/engine.io/x", "/engine.io", true, true],
    ["/engine.iox", "/engine.io", true, false],
    ["/engine.iox", "/engine.io", false, true],
    ["/other", "/engine.io", true, false],
  ];
  for (const [url, path, exact, expected] of rows) assert.equal(matchesPath(url, path, exact), expected, `${url} on ${path} (exact: ${exact})`);
});
