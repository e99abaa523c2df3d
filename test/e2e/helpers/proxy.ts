/**
 * A real forward proxy for the proxy tests: tinyproxy (Debian package `tinyproxy`, installed by
 * .ci/run) on 127.0.0.1 with its config and log in a temp dir. `log()` is what the proxy saw —
 * the tests' evidence that traffic went through it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./harness.js";

export const TINYPROXY = "/usr/bin/tinyproxy";

export interface RunningProxy {
  port: number;
  url: string;
  /** The proxy's log so far. */
  log(): string;
  close(): Promise<void>;
}

/** Starts tinyproxy in the foreground; `auth` adds Basic proxy authentication. */
export async function startTinyproxy(auth?: { user: string; password: string }): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), "runas-tinyproxy-"));
  const port = await freePort();
  const logFile = join(dir, "tinyproxy.log");
  writeFileSync(
    join(dir, "tinyproxy.conf"),
    [
      `Port ${port}`,
      "Listen 127.0.0.1",
      "Timeout 120",
      `LogFile "${logFile}"`,
      "LogLevel Info",
      "MaxClients 100",
      "Allow 127.0.0.1",
      ...(auth ? [`BasicAuth ${auth.user} ${auth.password}`] : []),
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(TINYPROXY, ["-d", "-c", join(dir, "tinyproxy.conf")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host: "127.0.0.1" }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`tinyproxy did not start: ${stderr}`);
    }
    await sleep(50);
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
