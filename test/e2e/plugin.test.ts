/**
 * `--plugin` end to end (issue 14 item 4, issue 19): the built CLI against the built emulator, with
 * the stand-in `session-manager-plugin` (helpers/fake-plugin.ts) first on PATH. For every command:
 * the plugin is looked for and asked its version before StartSession; the response reaches a
 * current plugin through AWS_SSM_START_SESSION_RESPONSE (the token never in its command line, read
 * from /proc while it runs); old plugins get argv and a warning; however the plugin ends, the
 * session it was given is terminated.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { RESPONSE_ENV } from "../../packages/aws-runas/src/session/plugin.js";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { type FakePlugin, installFakePlugin } from "./helpers/fake-plugin.js";
import { requestLog, sessionInfo } from "./helpers/forward.js";
import {
  assertOneLineError,
  type EmulatorProcess,
  runCli,
  spawnCli,
  startEmulatorProcess,
  waitForOutput,
} from "./helpers/harness.js";

const COMMANDS: Record<string, string[]> = {
  shell: ["ssm", "shell", "-P", "plain", INSTANCE.web],
  forward: ["ssm", "forward", "-P", "plain", `${INSTANCE.web}:9000`],
  ssh: ["ssm", "ssh", "-P", "plain", `root@${INSTANCE.web}`],
};

describe("--plugin with a stand-in session-manager-plugin (built CLI against the built emulator)", () => {
  let emulator: EmulatorProcess;
  let plugin: FakePlugin;

  before(async () => {
    emulator = await startEmulatorProcess();
    plugin = installFakePlugin();
  });
  after(async () => {
    plugin?.cleanup();
    await emulator?.close();
  });

  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...emulator.env,
    PATH: `${plugin.binDir}:${process.env.PATH}`,
    FAKE_PLUGIN_RECORD: plugin.record,
    ...extra,
  });
  /** Operations the emulator logged since `from` entries. */
  const operationsSince = async (from: number) =>
    (await requestLog(emulator)).slice(from).map((e) => e.operation);
  const logLength = async () => (await requestLog(emulator)).length;
  /** The session id the stand-in was given (from argv or the environment). */
  const givenSession = (): { sessionId: string; token: string } => {
    const { argv, env } = plugin.recorded();
    const response = JSON.parse(argv[0] === RESPONSE_ENV ? (env[RESPONSE_ENV] ?? "") : (argv[0] ?? ""));
    return { sessionId: response.SessionId, token: response.TokenValue };
  };

  for (const [name, args] of Object.entries(COMMANDS)) {
    describe(`ssm ${name} --plugin`, () => {
      test("plugin missing: one line with the install hint, no session started", async () => {
        const empty = join(plugin.dir, "empty");
        mkdirSync(empty, { recursive: true });
        const from = await logLength();
        const r = await runCli(args, { env: env({ PATH: empty }) });
        assertOneLineError(r, /session-manager-plugin was not found on PATH/, {
          hint: /install the Session Manager plugin/,
        });
        assert.deepEqual(
          (await operationsSince(from)).filter((op) => op === "StartSession"),
          [],
          "no StartSession call",
        );
      });

      test("plugin cannot run (not executable, or --version fails): one line, no session started", async () => {
        const noexec = join(plugin.dir, "noexec");
        mkdirSync(noexec, { recursive: true });
        writeFileSync(join(noexec, "session-manager-plugin"), "#!/bin/sh\n");
        chmodSync(join(noexec, "session-manager-plugin"), 0o644);
        for (const [extra, message] of [
          [{ PATH: noexec }, /session-manager-plugin is not executable/],
          [{ FAKE_PLUGIN_VERSION_EXIT: "1" }, /session-manager-plugin --version exited with status 1/],
        ] as const) {
          const from = await logLength();
          const r = await runCli(args, { env: env(extra) });
          assertOneLineError(r, message, { hint: /install/ });
          assert.ok(!(await operationsSince(from)).includes("StartSession"), `no StartSession (${message})`);
        }
      });

      for (const [how, extra, status] of [
        ["exits with status 3", { FAKE_PLUGIN_EXIT: "3" }, 3],
        ["is killed by SIGKILL", { FAKE_PLUGIN_SIGNAL_SELF: "SIGKILL" }, 128 + 9],
      ] as const) {
        test(`the plugin ${how}: the session is terminated, the exit status is ${status}`, async () => {
          const from = await logLength();
          const r = await runCli(args, { env: env(extra) });
          assert.equal(r.code, status, r.stderr);
          const ops = await operationsSince(from);
          assert.ok(ops.indexOf("TerminateSession") > ops.indexOf("StartSession"), ops.join(", "));
          const { sessionId } = givenSession();
          assert.equal((await sessionInfo(emulator, sessionId))?.state, "Terminated");
        });
      }

      test("a current plugin: argv[1] is AWS_SSM_START_SESSION_RESPONSE, the token is not in its /proc cmdline", async () => {
        const from = await logLength();
        const child = spawnCli(args, env({ FAKE_PLUGIN_VERSION: "1.2.764.0", FAKE_PLUGIN_WAIT_STDIN: "1" }));
        let stderr = "";
        child.stderr!.on("data", (d: Buffer) => {
          stderr += d.toString();
        });
        const exited = once(child, "exit");
        try {
          const [, pid] = await waitForOutput(child.stdout!, /fake-plugin-running (\d+)/);
          // While it runs: what `ps` shows of it, and what its environment holds.
          const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
          const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
          const { sessionId, token } = givenSession();
          assert.ok(token.length > 8, "the stand-in got a token");
          const script = cmdline.findIndex((arg) => arg.endsWith("/session-manager-plugin"));
          assert.deepEqual(cmdline.slice(script + 1, script + 4), [
            RESPONSE_ENV,
            "us-east-1",
            "StartSession",
          ]);
          assert.ok(!cmdline.join(" ").includes(token), "the token is in the process list");
          const variable = environ.find((line) => line.startsWith(`${RESPONSE_ENV}=`));
          assert.deepEqual(JSON.parse(variable!.slice(RESPONSE_ENV.length + 1)), {
            SessionId: sessionId,
            TokenValue: token,
            StreamUrl: JSON.parse(variable!.slice(RESPONSE_ENV.length + 1)).StreamUrl,
          });
          child.stdin!.end();
          const [code] = await exited;
          assert.equal(code, 0, stderr);
          assert.doesNotMatch(stderr, /warning:/);
          assert.ok(!stderr.includes(token));
          assert.ok(
            (await operationsSince(from)).includes("TerminateSession"),
            "terminated after the plugin ended",
          );
        } finally {
          child.kill("SIGKILL");
        }
      });

      for (const [version, passing, warning] of [
        [
          "1.2.463.0",
          "argv",
          /^warning: session-manager-plugin 1\.2\.463\.0 takes the session token on its command line, where any local user can read it \(ps\); upgrade it: https:\S+$/,
        ],
        [
          "1.2.650.0",
          "env",
          /^warning: session-manager-plugin 1\.2\.650\.0 is older than 1\.2\.764\.0, the oldest version AWS supports; upgrade it: https:\S+$/,
        ],
      ] as const) {
        test(`plugin ${version}: response through ${passing}, one warning line, the session still runs`, async () => {
          const r = await runCli(args, { env: env({ FAKE_PLUGIN_VERSION: version }) });
          assert.equal(r.code, 0, r.stderr);
          const warnings = r.stderr.split("\n").filter((line) => line.includes("warning:"));
          assert.equal(warnings.length, 1, r.stderr);
          assert.match(warnings[0]!, warning);
          const { argv, env: seen } = plugin.recorded();
          if (passing === "argv") {
            assert.equal(JSON.parse(argv[0]!).TokenValue, givenSession().token);
            assert.equal(seen[RESPONSE_ENV], undefined);
          } else {
            assert.equal(argv[0], RESPONSE_ENV);
          }
        });
      }
    });
  }
});
