// Shared helpers for tests that run the built CLI (packages/aws-runas/dist/aws-runas.js) as a real
// process.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The bundled CLI that `npm run build` writes. */
export const CLI = join(ROOT, "packages/aws-runas/dist/aws-runas.js");

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Sources whose changes the CLI tests must see (the rest of src/ is other layers' business). */
const CLI_SOURCES = [
  "packages/aws-runas/src/cli",
  "packages/aws-runas/src/target",
  "packages/aws-runas/src/session/plugin.ts",
  "packages/wire/src/errors.ts",
  "packages/wire/src/log.ts",
  "packages/aws-runas/package.json",
];

/**
 * Builds dist/ when it is missing or older than the CLI's sources (`npm test` builds first, so
 * this only matters when a test file is run on its own).
 */
export function ensureCliBuilt(): void {
  const newest = Math.max(...CLI_SOURCES.map((p) => newestMtime(join(ROOT, p))));
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= newest) return;
  const build = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: ROOT, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stderr}`);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** Complete environment of the child (default: a minimal one without AWS variables). */
  env?: NodeJS.ProcessEnv;
  /** Extra node flags before the script (e.g. `--import`). */
  nodeArgs?: string[];
  /** The script to run (default: the bundle; {@link BIN} is what an installed `aws-runas` runs). */
  script?: string;
}

/** package.json's `bin` entry: the CommonJS launcher in front of the bundle. */
export const BIN = join(ROOT, "packages/aws-runas/bin/aws-runas.cjs");

/** A clean environment: no AWS settings leak in from the machine running the tests. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env["PATH"], HOME: process.env["HOME"], NO_COLOR: "1", ...extra };
}

/** Runs `node dist/aws-runas.js ...args` (or `options.script`) and collects its output once it exits. */
export function runBuiltCli(args: readonly string[], options: CliRunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script ?? CLI, ...args], {
      cwd: ROOT,
      env: options.env ?? cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
