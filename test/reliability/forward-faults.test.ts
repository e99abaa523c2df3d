/**
 * Issue #11: 256 MiB through `aws-runas ssm forward` while the emulator duplicates 1 % and
 * reorders 1 % of the frames toward the client, delays every frame by 20 ms, and kills the
 * websocket three times (`drop-websocket-after=N`, per connection) — every byte arrives intact
 * (sha256), every drop is resumed with ResumeSession, and nothing hangs (a watchdog fails the test
 * after 20 s without progress). Built CLI against the built emulator.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { type EmulatorProcess, startEmulatorProcess } from "../e2e/helpers/harness.js";
import {
  assertNoChildProcesses,
  countRequests,
  ensureBuilt,
  hashIncoming,
  startEchoServer,
  startForward,
  startSourceServer,
  watchProgress,
  writeDeterministic,
} from "./helpers.js";

const MIB = 1024 * 1024;
const TOTAL = 256 * MIB;
const SEED = 11;
/** No byte moved for this long means the transfer hangs. */
const STALL_MS = 20_000;
const FAULTS = ["duplicate=1", "reorder=1", "delay=20"];

/**
 * Frames toward the client of a 256 MiB download: one per KiB of data (the agent's 1024-byte
 * messages) plus 1 % duplicates and a few acks — about 265 000. Drops come after 75 000 frames
 * on each connection: at ~75 k, ~150 k and ~225 k, and a fourth connection never gets that far.
 */
const DROP_AFTER_DOWNLOAD = 75_000;

function faultArgs(dropAfter: number): string[] {
  return [...FAULTS, `drop-websocket-after=${dropAfter}`].flatMap((f) => ["--fault", f]);
}

/** Every process these tests start is gone once the suites closed them. */
after(assertNoChildProcesses);

describe("256 MiB through ssm forward under duplicate/reorder/delay faults and three websocket drops", () => {
  before(() => ensureBuilt());

  describe("download: the remote side sends, the faults hit the data", () => {
    let emulator: EmulatorProcess;
    before(async () => {
      emulator = await startEmulatorProcess(["-v", ...faultArgs(DROP_AFTER_DOWNLOAD)]);
    });
    after(() => emulator?.close());

    test("sha256 intact, three ResumeSession calls, exit 0 on Ctrl-C", async (t) => {
      const source = await startSourceServer(TOTAL, SEED);
      t.after(() => source.close());
      const forward = await startForward(emulator.env, "plain", `${INSTANCE.web}:${source.port}`);
      t.after(() => forward.stop());

      const started = performance.now();
      const socket = connect(forward.port, "127.0.0.1");
      t.after(() => socket.destroy());
      const incoming = hashIncoming(socket);
      const ended = new Promise<void>((resolve, reject) => {
        socket.once("end", resolve);
        socket.once("error", reject);
      });
      const watch = watchProgress(
        incoming.bytes,
        STALL_MS,
        () =>
          `received ${incoming.bytes()} of ${TOTAL} bytes; forward stderr: ${forward.stderr().slice(-500)}`,
      );
      try {
        await Promise.race([ended, watch.stalled]);
      } finally {
        watch.stop();
      }
      const seconds = (performance.now() - started) / 1000;
      assert.equal(incoming.bytes(), TOTAL);
      assert.equal(incoming.hash.digest("hex"), await source.digests[0]);

      const { code } = await forward.stop();
      assert.equal(code, 0, forward.stderr());
      const resumes = await countRequests(emulator, "ResumeSession");
      const drops =
        emulator.stderr().match(/fault drop-websocket-after, killing the websocket/g)?.length ?? 0;
      assert.equal(drops, 3, "the emulator dropped the websocket three times");
      assert.equal(resumes, 3, "each drop was resumed with one ResumeSession call");
      t.diagnostic(
        `${(TOTAL / MIB / seconds).toFixed(1)} MiB/s under faults, ${drops} drops, ${resumes} resumes`,
      );
    });
  });

  describe("echo: both directions at once", () => {
    let emulator: EmulatorProcess;
    before(async () => {
      // An echo doubles the frames toward the client (data and acks of our data): aim for ~3 drops.
      emulator = await startEmulatorProcess(["-v", ...faultArgs(160_000)]);
    });
    after(() => emulator?.close());

    test("what comes back is what was sent, and every drop is resumed", async (t) => {
      const echo = await startEchoServer();
      t.after(() => echo.close());
      const forward = await startForward(emulator.env, "plain", `${INSTANCE.web}:${echo.port}`);
      t.after(() => forward.stop());

      const started = performance.now();
      const socket = connect(forward.port, "127.0.0.1");
      t.after(() => socket.destroy());
      socket.on("error", () => {}); // still open at Ctrl-C: the forward resets it
      const incoming = hashIncoming(socket);
      let sent = 0;
      const done = new Promise<void>((resolve) => {
        socket.on("data", () => {
          if (incoming.bytes() >= TOTAL) resolve();
        });
      });
      const watch = watchProgress(
        incoming.bytes,
        STALL_MS,
        () => `sent ${sent}, echoed back ${incoming.bytes()} of ${TOTAL} bytes`,
      );
      try {
        const sentDigest = writeDeterministic(socket, TOTAL, SEED, (n) => {
          sent = n;
        });
        await Promise.race([done, watch.stalled]);
        assert.equal(incoming.bytes(), TOTAL);
        assert.equal(incoming.hash.digest("hex"), await sentDigest);
      } finally {
        watch.stop();
      }
      const seconds = (performance.now() - started) / 1000;
      const { code } = await forward.stop();
      assert.equal(code, 0, forward.stderr());
      const resumes = await countRequests(emulator, "ResumeSession");
      const drops = emulator.stderr().match(/killing the websocket/g)?.length ?? 0;
      assert.ok(drops >= 2, `the websocket was dropped during the transfer (${drops})`);
      assert.equal(resumes, drops, "each drop was resumed with one ResumeSession call");
      t.diagnostic(
        `${(TOTAL / MIB / seconds).toFixed(1)} MiB/s each way under faults, ${drops} drops, ${resumes} resumes`,
      );
    });
  });
});
