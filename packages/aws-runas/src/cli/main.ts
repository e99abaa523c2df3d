/**
 * Entry point of `aws-runas` (bundled to dist/aws-runas.js; bin/aws-runas.cjs imports it, after
 * answering a bare `--version` itself). The only place that touches `process.exitCode`.
 */

// Under -v a failure prints its stack; the bundle is minified, so let Node map the frames back
// to our src/ files through the linked source maps. Only chunks loaded after this call are
// mapped, hence before anything else is imported. Without -v no stack is shown: skip the cost.
if (process.argv.slice(2).some((arg) => arg === "--verbose" || /^-v+$/.test(arg))) {
  process.setSourceMapsEnabled(true);
}

const { runCli } = await import("./cli.js");
process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
