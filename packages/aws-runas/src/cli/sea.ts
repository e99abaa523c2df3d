/**
 * Entry point of the single-file executable (`npm run sea`, scripts/sea.mjs): the same program as
 * main.ts, bundled into one CommonJS script that Node's single executable applications run. A
 * SEA main script cannot be an ES module nor load files beside it, so there is no top-level await
 * and no dynamic import left after bundling (esbuild inlines every `import()`). Keep the process
 * set-up below in step with main.ts.
 */

import { setFlagsFromString } from "node:v8";
import { runCli } from "./cli.js";
import { finishProcess } from "./exit.js";

// As in main.ts: keep V8's young generation at its start-up size (the forwarder's peak RSS).
// There are no source maps to enable here: the executable carries no .map files.
setFlagsFromString("--semi-space-growth-factor=1");

void runCli(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
}).then(finishProcess);
