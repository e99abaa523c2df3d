// Bundles the two command-line programs into dist/ with esbuild.
// Code splitting keeps start-up fast: each subcommand (and the AWS SDK behind it) is a
// separate chunk that is only loaded by a dynamic import() when the command runs.
import { rmSync } from "node:fs";
import { build } from "esbuild";

// Stale chunks from earlier builds would pile up (their names carry content hashes).
rmSync("dist", { recursive: true, force: true });

await build({
  entryPoints: {
    "aws-runas": "src/cli/main.ts",
    "aws-runas-emulator": "src/emulator/main.ts",
  },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Prefer the ESM builds (the AWS SDK ships both): dynamic imports of CommonJS builds lose
  // their named exports in an ESM bundle, and ESM tree-shakes better.
  mainFields: ["module", "main"],
  // node-pty is a native addon and must be loaded from node_modules at run time.
  external: ["node-pty"],
  // Some CommonJS dependencies call require(); give the ESM bundle a require of its own.
  banner: {
    js: "import { createRequire as __runasCreateRequire } from 'node:module'; const require = __runasCreateRequire(import.meta.url);",
  },
  chunkNames: "chunks/[name]-[hash]",
  sourcemap: "linked",
  legalComments: "none",
  minify: true,
  logLevel: "warning",
});
