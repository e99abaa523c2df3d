// Bundles the two command-line programs, each into its package's dist/, with esbuild.
// Code splitting keeps start-up fast: each subcommand (and the AWS SDK behind it) is a
// separate chunk that is only loaded by a dynamic import() when the command runs.
import { renameSync, rmSync } from "node:fs";
import { build } from "esbuild";

// Each program is built into a fresh folder, then swapped in: stale chunks (named by content
// hash) do not pile up, and a program running from dist/ during a rebuild never finds it half
// written.
const PROGRAMS = [
  { dir: "packages/aws-runas", name: "aws-runas", entry: "packages/aws-runas/src/cli/main.ts" },
  { dir: "packages/emulator", name: "aws-runas-emulator", entry: "packages/emulator/src/program/main.ts" },
];

await Promise.all(PROGRAMS.map(buildProgram));

async function buildProgram({ dir, name, entry }) {
  const dist = `${dir}/dist`;
  const staging = `${dist}.build-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  await build({
    entryPoints: { [name]: entry },
    outdir: staging,
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
  rmSync(`${dist}.old`, { recursive: true, force: true });
  try {
    renameSync(dist, `${dist}.old`);
  } catch {
    // first build: nothing to move aside
  }
  renameSync(staging, dist);
  rmSync(`${dist}.old`, { recursive: true, force: true });
}
