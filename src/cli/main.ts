/**
 * Entry point of `aws-runas` (bundled to dist/aws-runas.js; bin/aws-runas.js imports it).
 * The only place that touches `process.exitCode`.
 */
import { runCli } from "./cli.js";

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
