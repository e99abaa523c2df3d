// Builds the client as one executable file for machines without Node: a copy of this Node
// binary with the client injected as its single executable application (Node's SEA), written
// to packages/aws-runas/dist-sea/aws-runas (aws-runas.exe on Windows). Tested on Linux; the
// macOS signing steps follow Node's SEA documentation but are not tested here.
//
//   node scripts/sea.mjs [--out FILE]
//
// The executable is this Node plus about 2 MB of client: the target machine needs the same OS
// and CPU architecture (and, on Linux, a glibc as new as the one this Node was built for).
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { build } from "esbuild";
import { externalImports, PROGRAMS, singleFileOptions, versionOnly } from "./esbuild-options.mjs";

// The fuse Node's binary carries for SEA (Node's documentation names it); postject flips it so
// that the binary runs the injected script instead of behaving as `node`.
const SENTINEL_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const exe = process.platform === "win32" ? "aws-runas.exe" : "aws-runas";
if (outIndex >= 0 && !args[outIndex + 1]) {
  console.error("aws-runas sea: --out needs the path of the executable to write");
  process.exit(2);
}
const out = resolve(outIndex >= 0 ? args[outIndex + 1] : `${PROGRAMS.client.dir}/dist-sea/${exe}`);

/** A build step's failure, reported as one line (with the step's own output before it). */
class StepError extends Error {}

/** Runs a build step, keeping its chatter unless it fails. */
function quiet(step, command, argv) {
  try {
    execFileSync(command, argv, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  } catch (error) {
    process.stderr.write(`${error.stdout ?? ""}${error.stderr ?? ""}`);
    throw new StepError(`${step} failed (${error.status ?? error.signal ?? error.code})`);
  }
}

if (!readFileSync(process.execPath).includes(SENTINEL_FUSE)) {
  console.error(`aws-runas sea: ${process.execPath} was built without single executable application support`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), "aws-runas-sea-"));
// Written beside the target and renamed over it at the end: a half-written executable never
// sits at `out`, and a copy of it that is running keeps its file.
const staging = `${out}.build-${process.pid}`;
try {
  const script = join(work, "aws-runas.cjs");
  const result = await build({
    ...singleFileOptions,
    outfile: script,
    metafile: true,
    plugins: [versionOnly()],
  });
  const external = externalImports(result.metafile);
  if (external.length > 0) throw new StepError(`the bundle imports ${external.join(", ")} at run time`);

  // A SEA's main script can require() Node's builtins only: the bundle must hold everything.
  const blob = join(work, "sea-prep.blob");
  const config = join(work, "sea-config.json");
  await writeFile(
    config,
    JSON.stringify({
      main: script,
      output: blob,
      disableExperimentalSEAWarning: true,
      // V8's compiled code for the script, made now: the client then starts without parsing
      // and compiling its whole bundle (the SDK included) on every run.
      useCodeCache: true,
    }),
  );
  quiet("node --experimental-sea-config", process.execPath, ["--experimental-sea-config", config]);

  mkdirSync(dirname(out), { recursive: true });
  copyFileSync(process.execPath, staging);
  chmodSync(staging, 0o755);
  const macos = process.platform === "darwin";
  // Node's macOS binary is signed; the signature must go before injection and be redone after.
  if (macos) execFileSync("codesign", ["--remove-signature", staging]);
  // postject's CLI in a child process: its ELF editor prints harmless warnings about note
  // sections on every run, shown here only if the injection fails.
  const postject = createRequire(import.meta.url).resolve("postject/dist/cli.js");
  const injectArgs = [postject, staging, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SENTINEL_FUSE];
  if (macos) injectArgs.push("--macho-segment-name", "NODE_SEA");
  quiet("postject", process.execPath, injectArgs);
  if (macos) execFileSync("codesign", ["--sign", "-", staging]);
  renameSync(staging, out);
  console.log(out);
} catch (error) {
  if (!(error instanceof StepError)) throw error;
  console.error(`aws-runas sea: ${error.message}`);
  process.exitCode = 1;
} finally {
  rmSync(staging, { force: true });
  rmSync(work, { recursive: true, force: true });
}
