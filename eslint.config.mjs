// Lint: ESLint's and typescript-eslint's recommended rules (not type-aware: fast on two cores).
// `npm run lint`; CI runs it before the tests.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["dist/", "build/", "build-*/", "node_modules/", ".node-versions/", "examples/*/out/", "src/client-dist/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Unused arguments keep a callback's or an interface's documented shape; prefix with _ to mark them.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  {
    // Plain JavaScript (benchmarks, scripts, examples, the ESM wrappers) is CommonJS or ESM for Node;
    // tests load peers' untyped CommonJS internals and old clients (ws/lib/receiver, engine.io-client 3).
    files: ["**/*.js", "**/*.mjs", "**/*.cjs", "test/**/*.ts"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["examples/**/public/**/*.js"],
    languageOptions: { globals: { ...globals.browser, io: "readonly" } },
  },
);
