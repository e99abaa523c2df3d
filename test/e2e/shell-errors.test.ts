/**
 * Issue #6 acceptance: `ssm shell` failures are one line (plus an optional `hint:` line) with a
 * non-zero exit, and AWS-StartInteractiveCommand runs one command — built CLI against the built
 * emulator.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { assertOneLineError, type EmulatorProcess, runCli, startEmulatorProcess } from "./helpers/harness.js";

describe("ssm shell errors (built CLI against the built emulator)", () => {
  let emulator: EmulatorProcess;
  let faulty: EmulatorProcess;
  before(async () => {
    [emulator, faulty] = await Promise.all([
      startEmulatorProcess(),
      startEmulatorProcess(["--fault", `target-not-connected=${INSTANCE.workerOnline}`]),
    ]);
  });
  after(() => Promise.all([emulator?.close(), faulty?.close()]));

  test("an instance whose agent is offline: target not connected", async () => {
    const r = await runCli(["ssm", "shell", "plain", INSTANCE.offline], { env: emulator.env });
    assertOneLineError(
      r,
      new RegExp(`not connected.*${INSTANCE.offline}|${INSTANCE.offline}.*not connected`),
    );
  });

  test("--fault target-not-connected on an otherwise healthy instance", async () => {
    const healthy = await runCli(["ssm", "shell", "plain", INSTANCE.workerOnline], {
      env: emulator.env,
      input: "exit\n",
    });
    assert.equal(healthy.code, 0, `without the fault the instance works: ${healthy.stderr}`);
    const r = await runCli(["ssm", "shell", "plain", INSTANCE.workerOnline], { env: faulty.env });
    assertOneLineError(r, /not connected/);
  });

  test("an unknown session document", async () => {
    const r = await runCli(["ssm", "shell", "--document", "No-Such-Doc", "plain", INSTANCE.web], {
      env: emulator.env,
    });
    assertOneLineError(r, /No-Such-Doc/);
  });

  test("StartSession access denied (profile bob)", async () => {
    const r = await runCli(["ssm", "shell", "bob", INSTANCE.web], { env: emulator.env });
    assertOneLineError(r, /access denied|not authorized/i);
    assert.match(r.stderr, /ssm:StartSession/);
  });
});

describe("ssm shell --document AWS-StartInteractiveCommand (built CLI against the built emulator)", () => {
  let emulator: EmulatorProcess;
  before(async () => {
    emulator = await startEmulatorProcess();
  });
  after(() => emulator.close());

  test("runs the command and exits 0", async () => {
    const marker = `interactive-${Math.random().toString(36).slice(2)}`;
    const r = await runCli(
      [
        "ssm",
        "shell",
        "--document",
        "AWS-StartInteractiveCommand",
        "--parameter",
        `command=echo ${marker}`,
        "plain",
        INSTANCE.web,
      ],
      { env: emulator.env },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${marker}\\r?$`, "m"));
    assert.match(r.stderr, /^Exiting session with sessionId: \S+\.$/m);
    const sessions = (await emulator.admin("/_emulator/sessions")) as Array<{
      documentName: string;
      parameters: Record<string, string | string[]>;
    }>;
    const session = sessions.find((s) => s.documentName === "AWS-StartInteractiveCommand");
    assert.ok(session, "the session used the requested document");
    // The emulator may list a parameter as its one value or as a list of values.
    assert.deepEqual([session.parameters.command].flat(), [`echo ${marker}`]);
  });
});
