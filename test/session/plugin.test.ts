// --plugin mode: the stand-in `session-manager-plugin` (test/e2e/helpers/fake-plugin.ts), put first
// on PATH, records its argv and environment and exits the way the test asks.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { RunasError } from "@aws-runas/wire/errors.js";
import { createLogger } from "@aws-runas/wire/log.js";
import {
  comparePluginVersions,
  PLUGIN_INSTALL_URL,
  type PluginSessionOptions,
  parsePluginVersion,
  pluginArguments,
  pluginEnvironment,
  pluginVersionPlan,
  preparePlugin,
  RESPONSE_ENV,
  runSessionManagerPlugin,
} from "../../packages/aws-runas/src/session/plugin.js";
import { type FakePlugin, installFakePlugin } from "../e2e/helpers/fake-plugin.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let plugin: FakePlugin;
let dir = "";
let binDir = "";
let record = "";

before(() => {
  plugin = installFakePlugin();
  ({ dir, binDir, record } = plugin);
});
after(() => plugin.cleanup());

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
  return plugin.recorded();
}

describe("plugin arguments and environment (pure)", () => {
  test("six arguments in the AWS CLI order; the response travels in AWS_SSM_START_SESSION_RESPONSE", () => {
    const args = pluginArguments(options({}));
    assert.equal(args.length, 6);
    assert.equal(args[0], RESPONSE_ENV);
    assert.deepEqual(args.slice(1, 4), ["eu-west-1", "StartSession", ""]);
    assert.deepEqual(JSON.parse(args[4] ?? ""), REQUEST);
    assert.equal(args[5], "https://ssm.eu-west-1.amazonaws.com");
    assert.ok(!args.join(" ").includes(STARTED.tokenValue), "no token in argv");
  });

  test("old plugins (argv passing) get the response JSON as the first argument", () => {
    const args = pluginArguments(options({}, { passing: "argv" }));
    assert.deepEqual(JSON.parse(args[0] ?? ""), {
      SessionId: STARTED.sessionId,
      TokenValue: STARTED.tokenValue,
      StreamUrl: STARTED.streamUrl,
    });
  });

  test("version rules: > 1.2.497.0 reads the variable, < 1.2.764.0 is warned about", () => {
    assert.equal(parsePluginVersion("1.2.764.0\n"), "1.2.764.0");
    assert.equal(parsePluginVersion("  1.2.30.0  "), "1.2.30.0");
    assert.equal(parsePluginVersion("The Session Manager plugin was installed successfully"), null);
    assert.equal(comparePluginVersions("1.2.497.0", "1.2.497"), 0);
    assert.equal(comparePluginVersions("1.2.1000.0", "1.2.764.0"), 1);
    assert.equal(comparePluginVersions("1.10.0.0", "1.9.9.9"), 1);
    const cases: Array<[string | null, string, RegExp | undefined]> = [
      ["1.1.61.0", "argv", /takes the session token on its command line.*upgrade it: https:/],
      ["1.2.497.0", "argv", /1\.2\.497\.0 takes the session token on its command line/],
      ["1.2.497.1", "env", /1\.2\.497\.1 is older than 1\.2\.764\.0.*upgrade it: https:/],
      ["1.2.650.0", "env", /older than 1\.2\.764\.0/],
      ["1.2.764.0", "env", undefined],
      ["1.2.707.0", "env", /older than/],
      ["1.3.0.0", "env", undefined],
      [null, "env", /could not read the version/],
    ];
    for (const [version, passing, warning] of cases) {
      const plan = pluginVersionPlan("session-manager-plugin", version);
      assert.equal(plan.passing, passing, String(version));
      if (warning) assert.match(plan.warning ?? "", warning, String(version));
      else assert.equal(plan.warning, undefined, String(version));
      assert.ok(!plan.warning?.includes("\n"), "one line");
    }
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

describe("asking the plugin its version (before StartSession)", () => {
  const lines: string[] = [];
  const logger = createLogger(0, (line) => lines.push(line));

  test("a current plugin: env passing, no warning", async () => {
    lines.length = 0;
    const plugin = await preparePlugin({ env: options({ FAKE_PLUGIN_VERSION: "1.2.764.0" }).env, logger });
    assert.deepEqual(plugin, { command: "session-manager-plugin", version: "1.2.764.0", passing: "env" });
    assert.deepEqual(lines, []);
  });

  test("an old plugin: argv passing and one warning line", async () => {
    lines.length = 0;
    const plugin = await preparePlugin({ env: options({ FAKE_PLUGIN_VERSION: "1.2.463.0" }).env, logger });
    assert.equal(plugin.passing, "argv");
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? "", /^warning: session-manager-plugin 1\.2\.463\.0 takes the session token/);
  });

  test("missing, not executable, or --version failing: one error line with a hint", async () => {
    const empty = join(dir, "empty-prepare");
    mkdirSync(empty, { recursive: true });
    const noexec = join(dir, "noexec-prepare");
    mkdirSync(noexec, { recursive: true });
    writeFileSync(join(noexec, "session-manager-plugin"), "#!/bin/sh\n");
    chmodSync(join(noexec, "session-manager-plugin"), 0o644);
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ PATH: empty }, "PLUGIN_NOT_FOUND", /^session-manager-plugin was not found on PATH$/],
      [{ PATH: noexec }, "PLUGIN_NOT_EXECUTABLE", /^session-manager-plugin is not executable$/],
      [
        { FAKE_PLUGIN_VERSION_EXIT: "2" },
        "PLUGIN_FAILED",
        /^session-manager-plugin --version exited with status 2$/,
      ],
    ];
    cases.push([
      { FAKE_PLUGIN_VERSION_HANG: "1" },
      "PLUGIN_FAILED",
      /^session-manager-plugin --version did not answer within 0\.5 s$/,
    ]);
    for (const [env, code, message] of cases) {
      await assert.rejects(preparePlugin({ env: options(env).env, timeoutMs: 500 }), (error: unknown) => {
        assert.ok(error instanceof RunasError);
        assert.equal(error.code, code);
        assert.match(error.message, message);
        assert.ok(error.hint?.includes(PLUGIN_INSTALL_URL), "the hint names where to get the plugin");
        return true;
      });
    }
  });
});

describe("running session-manager-plugin", () => {
  test("passes six arguments and the credentials; resolves with its exit status", async () => {
    const status = await runSessionManagerPlugin(
      options({ FAKE_PLUGIN_EXIT: "0", AWS_PROFILE: "should-go", [RESPONSE_ENV]: "stale" }),
    );
    assert.equal(status, 0);
    const { argv, env } = recorded();
    assert.equal(argv.length, 6);
    assert.equal(argv[0], RESPONSE_ENV);
    assert.equal(JSON.parse(env[RESPONSE_ENV] ?? "").TokenValue, STARTED.tokenValue);
    assert.ok(!argv.join(" ").includes(STARTED.tokenValue), "no token in argv");
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

  test("argv passing (old plugins): the JSON is the first argument and not in the environment", async () => {
    await runSessionManagerPlugin(options({ [RESPONSE_ENV]: "stale" }, { passing: "argv" }));
    const { argv, env } = recorded();
    assert.equal(JSON.parse(argv[0] ?? "").TokenValue, STARTED.tokenValue);
    assert.equal(env[RESPONSE_ENV], undefined);
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
    const pluginUrl = new URL("../../packages/aws-runas/src/session/plugin.ts", import.meta.url).href;
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
