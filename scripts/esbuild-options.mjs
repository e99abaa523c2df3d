// The esbuild options both programs are bundled with, by scripts/build.mjs (the checkout's
// dist/), scripts/pack-client.mjs (the packages a user installs) and scripts/sea.mjs (the
// client as one executable file). No import of esbuild here: prepare.mjs reads this file
// before it knows esbuild is installed.
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { resolve } from "node:path";

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

/**
 * The client as one CommonJS script for Node's single executable applications, which run a
 * CommonJS main script and cannot load files beside it: no chunks (esbuild inlines every
 * dynamic import()), and no ESM banner (CommonJS has its own require, and the bundle must not
 * need import.meta.url).
 */
export const singleFileOptions = {
  ...bundleOptions,
  splitting: false,
  format: "cjs",
  banner: {},
  chunkNames: undefined,
  // Node 20 gives a SEA's main script no import() at all, not even of a builtin (the SDK
  // imports node:http and others that way): esbuild turns each into a require().
  supported: { "dynamic-import": false },
  // ws tries require("bufferutil") and require("utf-8-validate") (optional speed-ups it works
  // without); a SEA warns on stderr at each require() of a non-builtin. ws's own switches skip
  // both.
  define: { "process.env.WS_NO_BUFFER_UTIL": '"1"', "process.env.WS_NO_UTF_8_VALIDATE": '"1"' },
  entryPoints: [`${PROGRAMS.client.dir}/src/cli/sea.ts`],
};

/**
 * The CLI imports its package.json for its version; inline only that field, so a shipped
 * bundle does not carry the development manifest (its scripts, devDependencies and the
 * emulator's node-pty).
 */
export function versionOnly() {
  const manifest = resolve(`${PROGRAMS.client.dir}/package.json`);
  const { version } = JSON.parse(readFileSync(manifest, "utf8"));
  return {
    name: "version-only",
    setup(b) {
      b.onLoad({ filter: /package\.json$/ }, (args) =>
        args.path === manifest ? { contents: JSON.stringify({ version }), loader: "json" } : undefined,
      );
    },
  };
}

// ws require()s these inside try/catch as optional speed-ups and works without them.
const OPTIONAL = new Set(["bufferutil", "utf-8-validate"]);
const BUILTIN = new Set(builtinModules);

/** Packages a bundle (built with `metafile: true`) still imports at run time: bare specifiers that are not Node builtins. */
export function externalImports(metafile) {
  const found = new Set();
  for (const output of Object.values(metafile.outputs)) {
    for (const imp of output.imports) {
      const name = imp.path.replace(/^node:/, "");
      if (imp.external && !BUILTIN.has(name) && !OPTIONAL.has(name)) found.add(imp.path);
    }
  }
  return [...found].sort();
}
