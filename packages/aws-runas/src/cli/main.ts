/**
 * Entry point of `aws-runas` (bundled to dist/aws-runas.js; bin/aws-runas.cjs imports it, after
 * answering a bare `--version` itself). How the process ends is cli/exit.ts.
 */

import { setFlagsFromString } from "node:v8";
import { finishProcess } from "./exit.js";

// Under -v a failure prints its stack; the bundle is minified, so let Node map the frames back
// to our src/ files through the linked source maps. Only chunks loaded after this call are
// mapped, hence before anything else is imported. Without -v no stack is shown: skip the cost.
if (process.argv.slice(2).some((arg) => arg === "--verbose" || /^-v+$/.test(arg))) {
  process.setSourceMapsEnabled(true);
}

// A relay keeps thousands of messages in flight (unacked frames, socket chunks); each young-
// generation collection finds them alive, and V8 answers by doubling the young generation up to
// 32 MiB — a third of the forwarder's peak RSS under load. Keeping it at its start-up size cost
// no throughput in the bench (npm run bench: forwarder memory rows). Read by V8 at each growth,
// so setting it at run time works; nothing else about the heap changes.
setFlagsFromString("--semi-space-growth-factor=1");

const { runCli } = await import("./cli.js");
finishProcess(
  await runCli(process.argv.slice(2), {
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  }),
);
