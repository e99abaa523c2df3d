/**
 * A stand-in `session-manager-plugin` for `--plugin` tests: a script in a temp dir (put it first
 * on PATH) that answers `--version` and otherwise records its argv, environment and pid, then
 * ends the way the test asks. Behaviour comes from FAKE_PLUGIN_* variables in its environment:
 *
 * | variable | effect |
 * |---|---|
 * | FAKE_PLUGIN_RECORD | file to record `{ argv, env, pid }` in (required); pids go to `<file>.pids` |
 * | FAKE_PLUGIN_VERSION | what `--version` prints (default 1.2.764.0) |
 * | FAKE_PLUGIN_VERSION_EXIT | `--version` exits with this status instead, printing nothing |
 * | FAKE_PLUGIN_VERSION_HANG | `--version` never answers |
 * | FAKE_PLUGIN_EXIT | exit status (default 0) |
 * | FAKE_PLUGIN_WAIT_STDIN | print `fake-plugin-running <pid>` on stdout and run until stdin ends |
 * | FAKE_PLUGIN_SIGNAL_SELF | kill itself with this signal |
 * | FAKE_PLUGIN_SIGNAL_PARENT | send this signal to the parent (SIGTERM: then wait for it back, exit 42) |
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = `#!${process.execPath}
const fs = require("node:fs");
const env = process.env;
const forever = () => setInterval(() => {}, 1 << 30);

function version() {
  if (env.FAKE_PLUGIN_VERSION_HANG) return forever();
  if (env.FAKE_PLUGIN_VERSION_EXIT) process.exit(Number(env.FAKE_PLUGIN_VERSION_EXIT));
  process.stdout.write((env.FAKE_PLUGIN_VERSION || "1.2.764.0") + "\\n");
}

function session() {
  fs.writeFileSync(env.FAKE_PLUGIN_RECORD, JSON.stringify({ argv: process.argv.slice(2), env, pid: process.pid }));
  fs.appendFileSync(env.FAKE_PLUGIN_RECORD + ".pids", process.pid + "\\n");
  const status = Number(env.FAKE_PLUGIN_EXIT || "0");
  if (env.FAKE_PLUGIN_WAIT_STDIN) {
    process.stdout.write("fake-plugin-running " + process.pid + "\\n");
    process.stdin.resume();
    process.stdin.on("end", () => process.exit(status));
    return;
  }
  if (env.FAKE_PLUGIN_SIGNAL_SELF) return process.kill(process.pid, env.FAKE_PLUGIN_SIGNAL_SELF);
  if (env.FAKE_PLUGIN_SIGNAL_PARENT === "SIGTERM") {
    // Wait (event-driven) for the parent to pass the signal back to us.
    process.on("SIGTERM", () => process.exit(42));
    process.kill(process.ppid, "SIGTERM");
    return forever();
  }
  if (env.FAKE_PLUGIN_SIGNAL_PARENT) process.kill(process.ppid, env.FAKE_PLUGIN_SIGNAL_PARENT);
  process.exitCode = status;
}

if (process.argv[2] === "--version") version();
else session();
`;

export interface PluginRecord {
  argv: string[];
  env: Record<string, string>;
  pid: number;
}

export interface FakePlugin {
  /** Temp dir holding everything (the caller may put more in it). */
  dir: string;
  /** Holds `session-manager-plugin`: put it first on PATH. */
  binDir: string;
  /** Pass as FAKE_PLUGIN_RECORD. */
  record: string;
  /** What the last run recorded. */
  recorded(): PluginRecord;
  /** Ends stand-ins still running (a parent that failed to pass a signal on), then removes `dir`. */
  cleanup(): void;
}

export function installFakePlugin(): FakePlugin {
  const dir = mkdtempSync(join(tmpdir(), "runas-plugin-"));
  const binDir = join(dir, "bin");
  const record = join(dir, "record.json");
  // A CommonJS script (no package.json "type" in the temp dir), run through its shebang.
  writeFileSync(join(dir, "package.json"), "{}");
  mkdirSync(binDir, { recursive: true });
  writeFileSync(join(binDir, "session-manager-plugin"), SCRIPT);
  chmodSync(join(binDir, "session-manager-plugin"), 0o755);
  return {
    dir,
    binDir,
    record,
    recorded: () => JSON.parse(readFileSync(record, "utf8")) as PluginRecord,
    cleanup() {
      let pids: string[] = [];
      try {
        pids = readFileSync(`${record}.pids`, "utf8").split("\n").filter(Boolean);
      } catch {
        // none ran
      }
      for (const pid of pids) {
        try {
          // Only our stand-in (guards against a recycled pid).
          if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(binDir))
            process.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
