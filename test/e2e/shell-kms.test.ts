/**
 * Issue #6 acceptance: a KMS-encrypted shell session, and long output that survives websocket drops
 * (`--fault drop-websocket-after=50`) complete and in order — built CLI against the built emulator.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import {
  type CliResult,
  type EmulatorProcess,
  runCli,
  spawnCli,
  startEmulatorProcess,
} from "./helpers/harness.js";

/** The agent's HandshakeComplete CustomerMessage for KMS sessions, printed by the CLI on stderr. */
const KMS_NOTICE = /^This session is encrypted using AWS KMS\.$/m;

/** 1..20000, one number a line: what `seq 1 20000` prints. */
const SEQ_COUNT = 20_000;
const EXPECTED_SEQ = Array.from({ length: SEQ_COUNT }, (_, i) => String(i + 1)).join("\n");

/**
 * The lines a terminal would show, without escape sequences (bracketed paste, colours) and with
 * each line's text after its last carriage return.
 */
function screenLines(output: string): string[] {
  return output
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "")
    .split("\n")
    .map((line) => {
      const parts = line.split("\r").filter((p) => p !== "");
      return parts[parts.length - 1] ?? "";
    });
}

/** The lines between the `begin` and `end` marker lines (exclusive), or undefined if one is missing. */
function between(lines: string[], begin: string, end: string): string[] | undefined {
  const from = lines.indexOf(begin);
  const to = lines.indexOf(end, from + 1);
  return from < 0 || to < 0 ? undefined : lines.slice(from + 1, to);
}

/** Shell input printing markers around `seq 1 20000`; arithmetic keeps the echoed command from matching. */
const SEQ_INPUT = `echo BEGIN-$((1+1)); seq 1 ${SEQ_COUNT}; echo END-$((2+2))\nexit\n`;

/**
 * Runs the CLI with `input` on a stdin that stays open until the CLI exits, as a person at a
 * terminal would leave it (no end-of-input Ctrl-D reaches the remote shell).
 */
async function runCliKeepingStdinOpen(
  args: string[],
  env: NodeJS.ProcessEnv,
  input: string,
  timeoutMs: number,
): Promise<CliResult> {
  const child = spawnCli(args, env);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin!.on("error", () => {});
  child.stdin!.write(input);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  child.stdin!.end();
  return { code, signal, stdout, stderr };
}

/** How many calls of `operation` the emulator's request log holds. */
async function countRequests(emulator: EmulatorProcess, operation: string): Promise<number> {
  const entries = (await emulator.admin("/_emulator/requests")) as Array<{ operation: string }>;
  return entries.filter((e) => e.operation === operation).length;
}

function assertSeqComplete(stdout: string): void {
  const numbers = between(screenLines(stdout), "BEGIN-2", "END-4");
  assert.ok(numbers, `markers missing; output ends with: ${JSON.stringify(stdout.slice(-300))}`);
  const got = numbers.join("\n");
  // One comparison of the whole text; on failure report where it diverges instead of 20000 lines.
  if (got !== EXPECTED_SEQ) {
    const at = [...got].findIndex((c, i) => c !== EXPECTED_SEQ[i]);
    assert.fail(
      `seq output differs at character ${at} (${numbers.length} lines): ` +
        `${JSON.stringify(got.slice(Math.max(0, at - 40), at + 40))}`,
    );
  }
}

describe("KMS-encrypted shell session (built CLI against the built emulator)", () => {
  let emulator: EmulatorProcess;
  before(async () => {
    emulator = await startEmulatorProcess();
  });
  after(() => emulator.close());

  test("works, and prints the encryption notice on stderr only", async () => {
    const marker = `kms-${Math.random().toString(36).slice(2)}`;
    const r = await runCli(["ssm", "shell", "plain", INSTANCE.kms], {
      env: emulator.env,
      input: `echo ${marker}\nexit\n`,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${marker}\\r?$`, "m"));
    assert.match(r.stderr, KMS_NOTICE);
    assert.doesNotMatch(r.stdout, /encrypted using AWS KMS/);
    const requests = (await emulator.admin("/_emulator/requests")) as Array<{
      operation: string;
      status: number;
    }>;
    assert.ok(
      requests.some((e) => e.operation === "GenerateDataKey" && e.status === 200),
      "the client asked KMS for the session's data key",
    );
  });

  test("a plain instance prints no encryption notice", async () => {
    const r = await runCli(["ssm", "shell", "plain", INSTANCE.web], { env: emulator.env, input: "exit\n" });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /encrypted/);
  });
});

describe("long shell output across websocket drops (--fault drop-websocket-after=50)", () => {
  let emulator: EmulatorProcess;
  before(async () => {
    emulator = await startEmulatorProcess(["--fault", "drop-websocket-after=50"]);
  });
  after(() => emulator.close());

  for (const [name, instance] of [
    ["plain", INSTANCE.web],
    ["KMS", INSTANCE.kms],
  ] as const) {
    test(`seq 1 ${SEQ_COUNT} arrives complete and in order (${name} session)`, async () => {
      const resumesBefore = await countRequests(emulator, "ResumeSession");
      const r = await runCliKeepingStdinOpen(
        ["ssm", "shell", "plain", instance],
        emulator.env,
        SEQ_INPUT,
        45_000,
      );
      assertSeqComplete(r.stdout);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(
        (await countRequests(emulator, "ResumeSession")) > resumesBefore,
        "the websocket was dropped and the client resumed",
      );
    });
  }

  test(`seq 1 ${SEQ_COUNT} arrives complete when stdin ends right after the input (Ctrl-D typeahead)`, async () => {
    const r = await runCli(["ssm", "shell", "plain", INSTANCE.web], {
      env: emulator.env,
      input: SEQ_INPUT,
      timeoutMs: 45_000,
    });
    assertSeqComplete(r.stdout);
    assert.equal(r.code, 0, r.stderr);
  });
});
