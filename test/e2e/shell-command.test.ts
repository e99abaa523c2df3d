import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { AGENT_VERSION, INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { requestLog } from "./helpers/forward.js";
import {
  assertOneLineError,
  type EmulatorProcess,
  runCli,
  spawnCli,
  startEmulatorProcess,
} from "./helpers/harness.js";
import { pollUntil } from "./helpers/tmux.js";

/**
 * `ssm shell … -- command`: AWS-StartNonInteractiveCommand with separated streams and the exit
 * status (built CLI against the built emulator). The `web` instance has a modern agent; the
 * `keepalive` one (3.1.1446.0) predates separated streams; `legacy` (3.0.196.0) has no
 * NonInteractiveCommands at all.
 */
describe("ssm shell -- command (remote command with exit status)", () => {
  let emulator: EmulatorProcess;
  before(async () => {
    emulator = await startEmulatorProcess();
  });
  after(() => emulator.close());

  const run = (target: string, words: string[], input?: string | Buffer) =>
    runCli(["ssm", "shell", "plain", target, "--", ...words], { env: emulator.env, input });

  test("stdout and stderr come back separated and byte-exact, nothing else on stdout", async () => {
    // No trailing newline, UTF-8 split across the agent's 1024-byte payloads, and more than
    // one payload on each stream.
    const script =
      "printf 'out-1\\n'; printf 'err-1\\n' >&2; " +
      "i=0; while [ $i -lt 300 ]; do printf 'ünïcødé-%d ' $i; i=$((i+1)); done; " +
      "i=0; while [ $i -lt 200 ]; do printf 'E%d,' $i >&2; i=$((i+1)); done; printf 'last'";
    const r = await run(INSTANCE.web, [script]);
    assert.equal(r.code, 0, r.stderr);
    let expectedOut = "out-1\n";
    for (let i = 0; i < 300; i++) expectedOut += `ünïcødé-${i} `;
    expectedOut += "last";
    let expectedErr = "err-1\n";
    for (let i = 0; i < 200; i++) expectedErr += `E${i},`;
    assert.ok(r.stdoutBytes!.equals(Buffer.from(expectedOut)), `stdout: ${r.stdout.slice(0, 200)}`);
    assert.ok(r.stderrBytes!.equals(Buffer.from(expectedErr)), `stderr: ${r.stderr.slice(0, 200)}`);
  });

  test("the remote exit status is ours: 0, 1 and 42", async () => {
    for (const code of [0, 1, 42]) {
      const r = await run(INSTANCE.web, ["echo", `code-${code};`, "exit", String(code)]);
      assert.equal(r.code, code, `exit ${code}: ${r.stderr}`);
      assert.equal(r.stdout, `code-${code}\n`);
      assert.equal(r.stderr, "");
    }
    const failing = await run(INSTANCE.web, ["false"]);
    assert.equal(failing.code, 1, failing.stderr);
  });

  test("stdin is piped to the command byte for byte (control bytes included)", async () => {
    const input = Buffer.from([
      ...Buffer.from("line one\nline two\n"),
      0x00,
      0x03,
      0x1c,
      0x04,
      0xff,
      ...Buffer.from("ünï", "utf8"),
    ]);
    const r = await run(INSTANCE.web, ["cat"], input);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdoutBytes!.equals(input), `stdout: ${JSON.stringify(r.stdout)}`);
    const counted = await run(INSTANCE.web, ["wc", "-l"], "a\nb\nc\n");
    assert.equal(counted.stdout.trim(), "3");
  });

  test("words are quoted for the remote shell like ssh does: quoted arguments stay whole", async () => {
    const r = await run(INSTANCE.web, ["printf", "'[%s]\\n'", '"a b"', '"c\'d"', "$((6*7))"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "[a b]\n[c'd]\n[42]\n");
  });

  test(`fallback: agent ${AGENT_VERSION.keepalive} cannot separate stderr; the exit status still comes back`, async () => {
    const r = await run(INSTANCE.keepalive, ["echo", "out;", "echo", "err", ">&2;", "exit", "42"]);
    assert.equal(r.code, 42, r.stderr);
    // The agent merges both streams into its one output (ssm-protocol.md §2.1); the marker line
    // that carried the status is gone.
    assert.equal(r.stdout, "out\nerr\n");
    assert.match(r.stderr, /^warning: SSM Agent 3\.1\.1446\.0 sends the command's stderr mixed into stdout/m);
    const ok = await run(INSTANCE.keepalive, ["printf", "no-newline"], "ignored-input");
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "no-newline");
  });

  test(`an agent without NonInteractiveCommands (${AGENT_VERSION.basic}) is one clear error`, async () => {
    const r = await run(INSTANCE.legacy, ["true"]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, "");
    // One line: the agent's reason (channel_closed), nothing else.
    assert.match(
      r.stderr,
      /^aws-runas: session \S+ ended: NonInteractiveCommands is not supported by SSM Agent 3\.0\.196\.0; it needs 3\.0\.1124\.0 or later\.\n$/,
    );
  });

  test("Ctrl-C interrupts the remote command (exit 130); a second one ends the session with TerminateSession", async () => {
    const run = async (script: string, interrupts: number) => {
      const child = spawnCli(["ssm", "shell", "plain", INSTANCE.web, "--", script], emulator.env);
      child.stdin!.end();
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr!.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const closed = once(child, "close");
      await pollUntil("the remote command to start", () => (stderr.includes("started") ? true : undefined));
      child.kill("SIGINT");
      if (interrupts > 1) {
        await pollUntil("the first interrupt", () =>
          stderr.includes("press Ctrl-C again") ? true : undefined,
        );
        child.kill("SIGINT");
      }
      const [code] = (await closed) as [number | null];
      return { code, stdout };
    };
    const once1 = await run("echo started >&2; sleep 30; echo never", 1);
    assert.deepEqual(once1, { code: 130, stdout: "" });
    const terminatesBefore = (await requestLog(emulator)).filter(
      (e) => e.operation === "TerminateSession",
    ).length;
    // The remote side ignores SIGINT: only ending the session gets the client out.
    const twice = await run("trap '' INT; echo started >&2; sleep 30; echo never", 2);
    assert.deepEqual(twice, { code: 130, stdout: "" });
    const terminates = (await requestLog(emulator)).filter((e) => e.operation === "TerminateSession").length;
    assert.equal(terminates, terminatesBefore + 1);
  });

  test("stdout closed by its reader (| head -1): quiet exit 141 and TerminateSession", async () => {
    const terminatesBefore = (await requestLog(emulator)).filter(
      (e) => e.operation === "TerminateSession",
    ).length;
    const child = spawnCli(["ssm", "shell", "plain", INSTANCE.web, "--", "seq 1 10000000"], emulator.env);
    child.stdin!.end();
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const closed = once(child, "close");
    // Read the first chunk, then go away like `head -1`.
    await once(child.stdout!, "data");
    child.stdout!.destroy();
    const [code] = (await closed) as [number | null];
    assert.equal(code, 141, stderr);
    assert.equal(stderr, "");
    const terminates = (await requestLog(emulator)).filter((e) => e.operation === "TerminateSession").length;
    assert.equal(terminates, terminatesBefore + 1);
  });

  test("usage errors: nothing after --, --plugin or --document with a command", async () => {
    const empty = await runCli(["ssm", "shell", "plain", INSTANCE.web, "--"], { env: emulator.env });
    assertOneLineError(empty, /^aws-runas: missing command after --$/, { exitCode: 2 });
    const plugin = await runCli(["ssm", "shell", "-P", "plain", INSTANCE.web, "--", "true"], {
      env: emulator.env,
    });
    assertOneLineError(plugin, /--plugin cannot run a command after --/, { exitCode: 2 });
    const doc = await runCli(
      ["ssm", "shell", "--document", "AWS-StartInteractiveCommand", "plain", INSTANCE.web, "--", "true"],
      { env: emulator.env },
    );
    assertOneLineError(doc, /--document cannot be combined with a command after --/, { exitCode: 2 });
  });
});
