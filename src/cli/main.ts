/**
 * Entry point of `aws-runas` (bundled to dist/aws-runas.js; bin/aws-runas.cjs imports it, after
 * answering a bare `--version` itself). The only place that touches `process.exitCode`.
 */
const { runCli } = await import("./cli.js");
process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
