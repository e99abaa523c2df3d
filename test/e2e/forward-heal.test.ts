/**
 * Issue 15 item 5, end to end: a forward whose session ends for good — idle timeout, maximum
 * session duration (session preferences in the fixture, on the emulator clock), terminated
 * elsewhere, agent restart — keeps its listener; the next connection starts a new session and
 * one line says so. `--no-reconnect` exits as before. Built CLI against the built emulator.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { defaultFixture, INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import {
  connectLocal,
  echoRoundTrip,
  type Forward,
  requestLog,
  startEchoServer,
  startForward,
  type TestServer,
} from "./helpers/forward.js";
import { type EmulatorProcess, startEmulatorProcess } from "./helpers/harness.js";

const HEALED = /^Session (\S+) had ended \((.*)\); started session (\S+) for a new connection\.$/gm;

/** Waits until `predicate()` holds (polling), or fails after `ms`. */
async function until(predicate: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe("forwards that heal", () => {
  let emulator: EmulatorProcess;
  let echo: TestServer;
  let dir: string;
  const forwards: Forward[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "runas-heal-"));
    const fixture = defaultFixture();
    const web = fixture.instances.find((i) => i.instanceId === INSTANCE.web)!;
    web.sessionPreferences = { idleSessionTimeout: 1, maxSessionDuration: 5 };
    const file = join(dir, "fixture.json");
    writeFileSync(file, JSON.stringify(fixture));
    [emulator, echo] = await Promise.all([startEmulatorProcess(["--fixture", file]), startEchoServer()]);
  });
  after(async () => {
    await Promise.all(forwards.map((f) => f.stop("SIGKILL")));
    await Promise.all([emulator?.close(), echo?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (extra: string[] = []) => {
    const f = await startForward(emulator.env, [...extra, "plain", `${INSTANCE.web}:${echo.port}`]);
    forwards.push(f);
    return f;
  };
  const echoOnce = async (port: number) => {
    const socket = await connectLocal(port);
    try {
      const r = await echoRoundTrip(socket, 64 * 1024);
      assert.equal(r.received, r.sent);
    } finally {
      socket.destroy();
    }
  };
  const sessionState = async (id: string) =>
    ((await emulator.admin("/_emulator/sessions")) as Array<{ sessionId: string; state: string }>).find(
      (s) => s.sessionId === id,
    )?.state;
  const starts = async () =>
    (await requestLog(emulator)).filter((e) => e.operation === "StartSession").length;

  test("idle timeout: an open connection is reset (its end is unknown), the next one gets a new session", async () => {
    const f = await start();
    await echoOnce(f.port);
    const idle = await connectLocal(f.port);
    const errors: string[] = [];
    idle.on("error", (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
    // Not events.once: it would reject with the reset.
    const closed = new Promise((resolve) => idle.once("close", resolve));
    await emulator.admin("/_emulator/clock", { advanceSeconds: 61 });
    await closed;
    assert.deepEqual(errors, ["ECONNRESET"], "reset, not closed as if it were complete");
    await until(
      () => /timed out due to inactivity/.test(f.stderr()),
      "the idle timeout's channel_closed text",
    );
    assert.equal(await sessionState(f.sessionId), "Terminated");
    const before = await starts();
    await echoOnce(f.port);
    assert.equal(await starts(), before + 1, "one new StartSession for the new connection");
    const healed = [...f.stderr().matchAll(HEALED)];
    assert.equal(healed.length, 1, f.stderr());
    assert.equal(healed[0]![1], f.sessionId);
    await echoOnce(f.port);
    assert.equal([...f.stderr().matchAll(HEALED)].length, 1, "no new session while the new one lives");
    assert.deepEqual(await f.stop("SIGINT"), { code: 0, signal: null }, f.stderr());
    assert.equal(await sessionState(healed[0]![3]!), "Terminated", "Ctrl-C terminates the current session");
  });

  test("maximum session duration ends a busy session; the forward heals", async () => {
    const f = await start();
    const socket = await connectLocal(f.port);
    socket.on("error", () => {}); // reset when the session ends (see the idle-timeout test)
    for (let minute = 0; minute < 5; minute++) {
      const r = await echoRoundTrip(socket, 16 * 1024);
      assert.equal(r.received, r.sent);
      await emulator.admin("/_emulator/clock", { advanceSeconds: 59 });
    }
    await emulator.admin("/_emulator/clock", { advanceSeconds: 10 });
    await new Promise((resolve) => socket.once("close", resolve));
    await until(() => /maximum session duration/.test(f.stderr()), "the max-duration text");
    await echoOnce(f.port);
    assert.equal([...f.stderr().matchAll(HEALED)].length, 1, f.stderr());
    await f.stop("SIGINT");
  });

  test("terminated elsewhere and agent restart: the forward heals each time", async () => {
    const f = await start();
    await echoOnce(f.port);
    await emulator.admin(`/_emulator/sessions/${f.sessionId}/terminate`, {});
    await until(async () => (await sessionState(f.sessionId)) === "Terminated", "termination");
    await sleep(200);
    await echoOnce(f.port);
    const second = [...f.stderr().matchAll(HEALED)][0]![3]!;
    // The agent restarts: its sessions end and for 2 s StartSession answers TargetNotConnected.
    await emulator.admin(`/_emulator/instances/${INSTANCE.web}/restart-agent`, { seconds: 2 });
    await until(async () => (await sessionState(second)) === "Terminated", "the agent restart");
    await sleep(200);
    const refused = await connectLocal(f.port);
    await once(refused, "close");
    await until(() => /not connected/.test(f.stderr()), "the failed StartSession's line");
    await sleep(2200);
    await echoOnce(f.port);
    assert.equal([...f.stderr().matchAll(HEALED)].length, 2, f.stderr());
    assert.deepEqual(await f.stop("SIGINT"), { code: 0, signal: null }, f.stderr());
  });

  test("--no-reconnect: the idle timeout ends the forward with the service's reason (exit 1), as before", async () => {
    const f = await start(["--no-reconnect"]);
    await echoOnce(f.port);
    await emulator.admin("/_emulator/clock", { advanceSeconds: 61 });
    const [code] = await once(f.child, "exit");
    assert.equal(code, 1, f.stderr());
    assert.doesNotMatch(f.stderr(), HEALED);
    assert.match(f.stderr(), /timed out due to inactivity/);
  });
});
