// --plugin mode: a stand-in `session-manager-plugin`, written into a temp dir put first on PATH,
// records its argv and environment and exits the way the test asks.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { RunasError } from "../../src/errors.js";
import {
  PLUGIN_INSTALL_URL,
  type PluginSessionOptions,
  pluginArguments,
  pluginEnvironment,
  runSessionManagerPlugin,
} from "../../src/session/plugin.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// Behaviour is chosen through FAKE_PLUGIN_* variables, which reach it through the child env.
const FAKE_PLUGIN = `#!${process.execPath}
const fs = require("node:fs");
const env = process.env;
fs.writeFileSync(env.FAKE_PLUGIN_RECORD, JSON.stringify({ argv: process.argv.slice(2), env }));
fs.appendFileSync(env.FAKE_PLUGIN_RECORD + ".pids", process.pid + "\\n");
if (env.FAKE_PLUGIN_SIGNAL_SELF) process.kill(process.pid, env.FAKE_PLUGIN_SIGNAL_SELF);
else if (env.FAKE_PLUGIN_SIGNAL_PARENT === "SIGTERM") {
  // Wait (event-driven) for the parent to pass the signal back to us.
  process.on("SIGTERM", () => process.exit(42));
  process.kill(process.ppid, "SIGTERM");
  setInterval(() => {}, 1 << 30);
} else {
  if (env.FAKE_PLUGIN_SIGNAL_PARENT) process.kill(process.ppid, env.FAKE_PLUGIN_SIGNAL_PARENT);
  process.exitCode = Number(env.FAKE_PLUGIN_EXIT ?? "0");
}
`;

let dir = "";
let binDir = "";
let record = "";

before(() => {
  dir = mkdtempSync(join(tmpdir(), "runas-plugin-"));
  binDir = join(dir, "bin");
  record = join(dir, "record.json");
  // A CommonJS script (no package.json "type" in the temp dir), run through its shebang.
  writeFileSync(join(dir, "package.json"), "{}");
  mkdirSync(binDir, { recursive: true });
  writeFileSync(join(binDir, "session-manager-plugin"), FAKE_PLUGIN);
  chmodSync(join(binDir, "session-manager-plugin"), 0o755);
});
after(() => {
  killLeftoverPlugins();
  rmSync(dir, { recursive: true, force: true });
});

/** If a parent failed to pass SIGTERM on, its stand-in plugin is still waiting: end it. */
function killLeftoverPlugins(): void {
  let pids: string[] = [];
  try {
    pids = readFileSync(`${record}.pids`, "utf8").split("\n").filter(Boolean);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      // Only our stand-in (guards against a recycled pid).
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(binDir)) process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
}

const REQUEST = {
  Target: "i-0123456789abcdef0",
  DocumentName: "AWS-StartSSHSession",
  Parameters: { portNumber: ["22"] },
};
const STARTED = {
  sessionId: "alice-0a1b2c3d4e5f",
  tokenValue: "TOKEN-VALUE-SECRET",
  streamUrl:
    "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/alice-0a1b2c3d4e5f?role=publish_subscribe",
};
const CREDENTIALS = {
  accessKeyId: "ASIAEXAMPLEKEY",
  secretAccessKey: "secret/Key+value",
  sessionToken: "session-token-value",
};

function options(
  env: Record<string, string | undefined>,
  over: Partial<PluginSessionOptions> = {},
): PluginSessionOptions {
  return {
    request: REQUEST,
    started: STARTED,
    region: "eu-west-1",
    ssmEndpointUrl: "https://ssm.eu-west-1.amazonaws.com",
    credentials: CREDENTIALS,
    interactive: false,
    env: { PATH: `${binDir}:${process.env["PATH"]}`, FAKE_PLUGIN_RECORD: record, ...env },
    ...over,
  };
}

function recorded(): { argv: string[]; env: Record<string, string> } {
  return JSON.parse(readFileSync(record, "utf8"));
}

describe("plugin arguments and environment (pure)", () => {
  test("six arguments in the AWS CLI order", () => {
    const args = pluginArguments(options({}));
    assert.equal(args.length, 6);
    assert.deepEqual(JSON.parse(args[0] ?? ""), {
      SessionId: STARTED.sessionId,
      TokenValue: STARTED.tokenValue,
      StreamUrl: STARTED.streamUrl,
    });
    assert.deepEqual(args.slice(1, 4), ["eu-west-1", "StartSession", ""]);
    assert.deepEqual(JSON.parse(args[4] ?? ""), REQUEST);
    assert.equal(args[5], "https://ssm.eu-west-1.amazonaws.com");
  });

  test("credentials and region replace profile settings", () => {
    const env = pluginEnvironment(
      {
        HOME: "/home/u",
        AWS_PROFILE: "dev",
        AWS_DEFAULT_PROFILE: "x",
        AWS_REGION: "us-east-1",
        UNSET: undefined,
      },
      CREDENTIALS,
      "eu-west-1",
    );
    assert.deepEqual(env, {
      HOME: "/home/u",
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
      AWS_REGION: "eu-west-1",
      AWS_DEFAULT_REGION: "eu-west-1",
    });
  });

  test("a stale session token is dropped for long-term keys", () => {
    const env = pluginEnvironment(
      { AWS_SESSION_TOKEN: "stale", AWS_SECURITY_TOKEN: "stale" },
      { accessKeyId: "AKIA", secretAccessKey: "s" },
      "r",
    );
    assert.equal(env["AWS_SESSION_TOKEN"], undefined);
    assert.equal(env["AWS_SECURITY_TOKEN"], undefined);
  });
});

describe("running session-manager-plugin", () => {
  test("passes six arguments and the credentials; resolves with its exit status", async () => {
    const status = await runSessionManagerPlugin(
      options({ FAKE_PLUGIN_EXIT: "0", AWS_PROFILE: "should-go" }),
    );
    assert.equal(status, 0);
    const { argv, env } = recorded();
    assert.equal(argv.length, 6);
    assert.equal(JSON.parse(argv[0] ?? "").TokenValue, STARTED.tokenValue);
    assert.deepEqual(argv.slice(1, 4), ["eu-west-1", "StartSession", ""]);
    assert.equal(JSON.parse(argv[4] ?? "").Target, REQUEST.Target);
    assert.equal(argv[5], "https://ssm.eu-west-1.amazonaws.com");
    assert.equal(env["AWS_ACCESS_KEY_ID"], CREDENTIALS.accessKeyId);
    assert.equal(env["AWS_SECRET_ACCESS_KEY"], CREDENTIALS.secretAccessKey);
    assert.equal(env["AWS_SESSION_TOKEN"], CREDENTIALS.sessionToken);
    assert.equal(env["AWS_REGION"], "eu-west-1");
    assert.equal(env["AWS_DEFAULT_REGION"], "eu-west-1");
    assert.equal(env["AWS_PROFILE"], undefined);
  });

  test("a non-zero exit status is propagated", async () => {
    assert.equal(await runSessionManagerPlugin(options({ FAKE_PLUGIN_EXIT: "3" })), 3);
  });

  test("death by signal n becomes 128 + n", async () => {
    assert.equal(await runSessionManagerPlugin(options({ FAKE_PLUGIN_SIGNAL_SELF: "SIGTERM" })), 128 + 15);
  });

  test("signal listeners are removed once the plugin is gone", async () => {
    const before = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGTSTP"].map((s) => process.listenerCount(s));
    await runSessionManagerPlugin(options({}, { interactive: true }));
    const after = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGTSTP"].map((s) => process.listenerCount(s));
    assert.deepEqual(after, before);
  });

  test("a missing plugin is a one-line error with the install URL", async () => {
    const empty = join(dir, "empty");
    mkdirSync(empty, { recursive: true });
    await assert.rejects(runSessionManagerPlugin(options({ PATH: empty })), (error: unknown) => {
      assert.ok(error instanceof RunasError);
      assert.equal(error.code, "PLUGIN_NOT_FOUND");
      assert.equal(error.message, "session-manager-plugin was not found on PATH");
      assert.ok(error.hint?.includes(PLUGIN_INSTALL_URL));
      return true;
    });
  });

  test("a plugin that is not executable is reported as such", async () => {
    const noexec = join(dir, "noexec");
    mkdirSync(noexec, { recursive: true });
    writeFileSync(join(noexec, "session-manager-plugin"), "#!/bin/sh\n");
    chmodSync(join(noexec, "session-manager-plugin"), 0o644);
    await assert.rejects(runSessionManagerPlugin(options({ PATH: noexec })), (error: unknown) => {
      assert.ok(error instanceof RunasError);
      assert.equal(error.code, "PLUGIN_NOT_EXECUTABLE");
      return true;
    });
  });
});

describe("signals in the parent while the plugin runs (separate process)", () => {
  /** Runs runSessionManagerPlugin in a fresh node process and returns how that process ended. */
  function runDriver(
    env: Record<string, string>,
  ): Promise<{ code: number | null; signal: string | null; stderr: string }> {
    const driver = join(dir, "driver.mts");
    const pluginUrl = new URL("../../src/session/plugin.ts", import.meta.url).href;
    writeFileSync(
      driver,
      `import { runSessionManagerPlugin } from ${JSON.stringify(pluginUrl)};
const opts = JSON.parse(process.env.DRIVER_OPTIONS);
process.exitCode = await runSessionManagerPlugin(opts);
`,
    );
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", driver], {
        cwd: ROOT,
        env: { ...process.env, DRIVER_OPTIONS: JSON.stringify(options(env)) },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (c: string) => {
        stderr += c;
      });
      child.once("error", reject);
      // "exit", not "close": a stand-in left running would keep the inherited stderr open.
      child.once("exit", (code, signal) => resolve({ code, signal, stderr }));
    });
  }

  test("SIGINT and SIGQUIT do not kill the parent; it exits with the plugin's status", async () => {
    const sigint = await runDriver({ FAKE_PLUGIN_SIGNAL_PARENT: "SIGINT", FAKE_PLUGIN_EXIT: "7" });
    assert.deepEqual({ code: sigint.code, signal: sigint.signal }, { code: 7, signal: null }, sigint.stderr);
    const sigquit = await runDriver({ FAKE_PLUGIN_SIGNAL_PARENT: "SIGQUIT", FAKE_PLUGIN_EXIT: "5" });
    assert.deepEqual(
      { code: sigquit.code, signal: sigquit.signal },
      { code: 5, signal: null },
      sigquit.stderr,
    );
  });

  test("SIGTERM to the parent is passed on to the plugin", async () => {
    const result = await runDriver({ FAKE_PLUGIN_SIGNAL_PARENT: "SIGTERM" });
    assert.deepEqual({ code: result.code, signal: result.signal }, { code: 42, signal: null }, result.stderr);
  });
});
