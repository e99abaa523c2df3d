#!/usr/bin/env node
// CommonJS on purpose: Node 20 starts a CommonJS file about 8 ms sooner than an ES module, and
// `--version` (which scripts call often) is answered here without loading the bundle at all.
"use strict";
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  process.stdout.write(`${require("../package.json").version}\n`);
} else {
  // The ES-module bundle runs the command and sets process.exitCode.
  import("../dist/aws-runas.js");
}
