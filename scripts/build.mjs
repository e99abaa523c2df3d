// Bundles the two command-line programs, each into its package's dist/, with esbuild.
import { renameSync, rmSync } from "node:fs";
import { build } from "esbuild";
import { bundleOptions, PROGRAMS } from "./esbuild-options.mjs";

// Each program is built into a fresh folder, then swapped in: stale chunks (named by content
// hash) do not pile up, and a program running from dist/ during a rebuild never finds it half
// written.
await Promise.all([PROGRAMS.client, PROGRAMS.emulator].map(buildProgram));

async function buildProgram({ dir, name, entry }) {
  const dist = `${dir}/dist`;
  const staging = `${dist}.build-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  await build({
    ...bundleOptions,
    entryPoints: { [name]: entry },
    outdir: staging,
    // node-pty is a native addon and must be loaded from node_modules at run time.
    external: ["node-pty"],
    sourcemap: "linked",
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
