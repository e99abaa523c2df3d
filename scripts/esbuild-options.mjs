// The esbuild options both programs are bundled with, by scripts/build.mjs (the checkout's
// dist/) and scripts/pack-client.mjs (the packages a user installs).

/** Where each program's package and entry point are. */
export const PROGRAMS = {
  client: { dir: "packages/aws-runas", name: "aws-runas", entry: "packages/aws-runas/src/cli/main.ts" },
  emulator: {
    dir: "packages/emulator",
    name: "aws-runas-emulator",
    entry: "packages/emulator/src/program/main.ts",
  },
};

export const bundleOptions = {
  bundle: true,
  // Code splitting keeps start-up fast: each subcommand (and the AWS SDK behind it) is a
  // separate chunk that is only loaded by a dynamic import() when the command runs.
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Prefer the ESM builds (the AWS SDK ships both): dynamic imports of CommonJS builds lose
  // their named exports in an ESM bundle, and ESM tree-shakes better.
  mainFields: ["module", "main"],
  // Some CommonJS dependencies call require(); give the ESM bundle a require of its own.
  banner: {
    js: "import { createRequire as __runasCreateRequire } from 'node:module'; const require = __runasCreateRequire(import.meta.url);",
  },
  chunkNames: "chunks/[name]-[hash]",
  legalComments: "none",
  minify: true,
  logLevel: "warning",
};
