/**
 * Entry point of `aws-runas` (bundled to dist/aws-runas.js; bin/aws-runas.cjs imports it).
 * The only place that touches `process.exitCode`.
 */
import { VERSION } from "./version.js";

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  // The most frequent scripted call answers before the command-line parser is even loaded.
  process.stdout.write(`${VERSION}\n`);
} else {
  const { runCli } = await import("./cli.js");
  process.exitCode = await runCli(argv, {
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  });
}
