/**
 * "A working day, compressed" (issue 15 acceptance), shared by the CI variant
 * (test/e2e/working-day.test.ts) and the full run (bench/day.ts): a forward carrying steady,
 * verified echo traffic and a shell printing numbered lines live through the service's websocket
 * recycling, role credentials that expire again and again (the emulator clock runs fast), network
 * outages mid-transfer, and finally an idle timeout after which the forward heals. Built CLI and
 * built emulator as real processes; every byte is checked and every status line counted.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Secret, TOTP } from "otpauth";
import { ALICE, defaultFixture, INSTANCE } from "../../../packages/emulator/src/fixture/default.js";
import { connectLocal, echoRoundTrip, type Forward, startEchoServer, startForward } from "./forward.js";
import { type EmulatorProcess, spawnCli, startEmulatorProcess } from "./harness.js";

export interface DayPlan {
  /** Real seconds of traffic before the idle-timeout phase. */
  seconds: number;
  /** `recycle-websocket-every` (real seconds). */
  recycleSeconds: number;
  /** Emulator seconds per real second: 15-minute role credentials expire every 15·60/speed s. */
  speed: number;
  /** Outages (real seconds from the start of traffic, and length). */
  outages: Array<{ at: number; seconds: number }>;
  /** Bytes per verified echo round trip. */
  echoBytes: number;
  /** A shell line every this many ms. */
  tickMs: number;
  /** Pause between echo round trips (steady traffic rather than a throughput test). Default 0. */
  echoPauseMs?: number;
  log?: (line: string) => void;
}

export interface DayFigures {
  realSeconds: number;
  sessionMinutes: number;
  echoedBytes: number;
  roundTrips: number;
  shellLines: number;
  resumeSessions: number;
  assumeRoles: number;
  getSessionTokens: number;
  /** Seconds each outage took to heal, as the CLI reported them ("reconnected after N s"). */
  reconnectedAfter: { forward: number[]; shell: number[] };
  /** The healing line of the forward after the idle timeout. */
  healed: string;
}

export const LOST = /^Connection to session \S+ lost \(.*\); reconnecting for up to .+\.\.\.\r?$/gm;
export const BACK = /^Session \S+: reconnected after (\d+) s\.\r?$/gm;
export const HEALED = /^Session \S+ had ended \(.*\); started session \S+ for a new connection\.$/m;

export async function runWorkingDay(plan: DayPlan): Promise<DayFigures> {
  const log = plan.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), "runas-day-"));
  const fixture = defaultFixture();
  fixture.instances.find((i) => i.instanceId === INSTANCE.web)!.sessionPreferences = {
    idleSessionTimeout: 20,
  };
  writeFileSync(join(dir, "fixture.json"), JSON.stringify(fixture));
  let emulator: EmulatorProcess | undefined;
  let forward: Forward | undefined;
  let shell: ChildProcess | undefined;
  const echo = await startEchoServer();
  const sockets: Socket[] = [];
  try {
    emulator = await startEmulatorProcess([
      "--require-signed-channel",
      "--fixture",
      join(dir, "fixture.json"),
      "--fault",
      `recycle-websocket-every=${plan.recycleSeconds}`,
    ]);
    const em = emulator;
    const clockNow = async () => Date.parse(((await em.admin("/_emulator/clock")) as { now: string }).now);
    const totp = async () =>
      new TOTP({ secret: Secret.fromBase32(ALICE.mfaSecretBase32) }).generate({
        timestamp: await clockNow(),
      });
    const startClock = await clockNow();

    forward = await startForward(
      { ...em.env, MFA_CODE: await totp() },
      ["role-mfa", `${INSTANCE.web}:${echo.port}`],
      {
        globalArgs: ["-a", "15m"],
      },
    );
    // The second process reuses the cached credentials: no MFA code needed (a prompt would fail).
    shell = spawnCli(["-a", "15m", "ssm", "shell", "role-mfa", INSTANCE.web], em.env);
    let shellOut = "";
    let shellErr = "";
    shell.stdout!.on("data", (d: Buffer) => {
      shellOut += d.toString();
    });
    shell.stderr!.on("data", (d: Buffer) => {
      shellErr += d.toString();
    });
    shell.stdin!.on("error", () => {});
    const shellExit = once(shell, "exit");

    const socket = await connectLocal(forward.port);
    sockets.push(socket);
    const t0 = Date.now();
    const elapsed = () => (Date.now() - t0) / 1000;
    let stop = false;

    // The emulator clock runs `speed` times as fast (advances fail during outages: time stands still).
    const driver = (async () => {
      while (!stop) {
        await sleep(500);
        await em
          .admin("/_emulator/clock", { advanceSeconds: ((plan.speed - 1) * 500) / 1000 })
          .catch(() => {});
      }
    })();
    const outages = (async () => {
      for (const o of plan.outages) {
        const wait = o.at - elapsed();
        if (wait > 0) await sleep(wait * 1000);
        if (stop) return;
        log(`outage of ${o.seconds} s at ${Math.round(elapsed())} s`);
        await em.admin("/_emulator/outage", { seconds: o.seconds });
      }
    })();
    let echoedBytes = 0;
    let roundTrips = 0;
    const traffic = (async () => {
      while (!stop) {
        const r = await echoRoundTrip(socket, plan.echoBytes, 180_000);
        assert.equal(r.received, r.sent, `echo round trip ${roundTrips} differs`);
        echoedBytes += r.bytes;
        roundTrips++;
        if (plan.echoPauseMs) await sleep(plan.echoPauseMs);
      }
    })();
    let ticks = 0;
    const ticker = (async () => {
      while (!stop) {
        shell!.stdin!.write(`echo tick-${ticks}-$((${ticks}+1000))\n`);
        ticks++;
        await sleep(plan.tickMs);
      }
    })();
    let lastReport = 0;
    while (elapsed() < plan.seconds) {
      await sleep(250);
      if (elapsed() - lastReport >= 30) {
        lastReport = elapsed();
        log(`${Math.round(elapsed())} s: ${roundTrips} round trips, ${ticks} shell lines`);
      }
    }
    stop = true;
    await Promise.all([driver, outages, traffic, ticker]);
    const sessionMinutes = ((await clockNow()) - startClock) / 60_000;

    // The shell: every line once, in order; then a clean exit.
    const lastTick = ticks - 1;
    const deadline = Date.now() + 120_000;
    while (!new RegExp(`^tick-${lastTick}-${lastTick + 1000}\\r?$`, "m").test(shellOut)) {
      if (Date.now() > deadline) throw new Error(`the shell's last line never came; stderr:\n${shellErr}`);
      await sleep(100);
    }
    shell.stdin!.end("exit\n");
    const [shellCode] = await shellExit;
    assert.equal(shellCode, 0, `shell exit; stderr:\n${shellErr}`);
    const seen = [...shellOut.matchAll(/^tick-(\d+)-(\d+)\r?$/gm)].map((m) => Number(m[2]) - 1000);
    assert.deepEqual(
      seen,
      Array.from({ length: ticks }, (_, i) => i),
      "every shell line once, in order",
    );

    // Idle timeout: no traffic for 21 minutes of session time ends the forward's session...
    socket.destroy();
    // The connection's close (smux FINs both ways) is session data too: let it pass first.
    await sleep(1000);
    await em.admin("/_emulator/clock", { advanceSeconds: 21 * 60 });
    const f = forward;
    const idleDeadline = Date.now() + 30_000;
    while (!/timed out due to inactivity/.test(f.stderr())) {
      if (Date.now() > idleDeadline) throw new Error(`no idle timeout; stderr:\n${f.stderr()}`);
      await sleep(100);
    }
    // ...and the next connection starts a new one.
    const again = await connectLocal(f.port);
    sockets.push(again);
    const r = await echoRoundTrip(again, plan.echoBytes, 60_000).catch(async (error: Error) => {
      // The forward's line about why reaches our pipe after the socket's close: let it arrive.
      await sleep(1000);
      throw new Error(`echo after the idle timeout: ${error.message}; stderr:\n${f.stderr()}`);
    });
    assert.equal(r.received, r.sent, "echo after healing");
    const healed = HEALED.exec(f.stderr())?.[0];
    assert.ok(healed, `the forward printed its healing line; stderr:\n${f.stderr()}`);
    again.destroy();
    assert.deepEqual(await f.stop("SIGINT"), { code: 0, signal: null }, f.stderr());

    // One "lost" and one "reconnected" line per outage, nothing for the recycles.
    const back = (text: string) => [...text.matchAll(BACK)].map((m) => Number(m[1]));
    for (const [name, text] of [
      ["forward", f.stderr()],
      ["shell", shellErr],
    ] as const) {
      assert.equal(text.match(LOST)?.length ?? 0, plan.outages.length, `${name}: 'lost' lines:\n${text}`);
      assert.equal(back(text).length, plan.outages.length, `${name}: 'reconnected' lines:\n${text}`);
    }
    const requests = (await em.admin("/_emulator/requests")) as Array<{ operation: string; status: number }>;
    const count = (op: string) => requests.filter((e) => e.operation === op && e.status === 200).length;
    assert.equal(count("GetSessionToken"), 1, "one MFA sign-in for the whole day");
    return {
      realSeconds: Math.round(elapsed()),
      sessionMinutes: Math.round(sessionMinutes * 10) / 10,
      echoedBytes,
      roundTrips,
      shellLines: ticks,
      resumeSessions: count("ResumeSession"),
      assumeRoles: count("AssumeRole"),
      getSessionTokens: count("GetSessionToken"),
      reconnectedAfter: { forward: back(f.stderr()), shell: back(shellErr) },
      healed,
    };
  } finally {
    for (const s of sockets) s.destroy();
    shell?.kill("SIGKILL");
    await forward?.stop("SIGKILL");
    await Promise.all([emulator?.close(), echo.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
