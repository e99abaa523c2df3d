/**
 * `--pacing realistic` in every agent pump (ssm-protocol.md §8): the agent forwards at most 1 KiB
 * per read and sleeps 1 ms after each one. The pump is checked on a manual clock (no timing
 * assertions); then every plugin — basic port, SSH-type port, mux streams, the shell — is run
 * under realistic pacing, echo path included, with every payload ≤ 1 KiB and the data intact.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { describe, test } from "node:test";
import { MuxSession } from "../../packages/aws-runas/src/mux/session.js";
import { OutputGate, SourcePump } from "../../packages/emulator/src/agent/flow.js";
import { INSTANCE } from "../../packages/emulator/src/index.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { startEchoServer, startTestEmulator, type TestEmulator } from "./helpers/emulator.js";
import { ClientTransport } from "./helpers/mux-transport.js";
import type { RawClient } from "./helpers/raw-client.js";

function pump(pacing: "realistic" | "none") {
  const clock = new ManualClock();
  const sent: number[] = [];
  const source = {
    paused: false,
    pause: () => (source.paused = true),
    resume: () => (source.paused = false),
  };
  const p = new SourcePump({
    gate: new OutputGate(() => true),
    pacing,
    clock,
    send: (chunk) => sent.push(chunk.length),
  });
  p.bind(source);
  return { clock, sent, source, pump: p };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("agent pacing: the pump", () => {
  test("realistic: one 1 KiB read, then a 1 ms pause before the next; the source waits meanwhile", async () => {
    const p = pump("realistic");
    p.pump.push(Buffer.alloc(3000));
    await settle();
    assert.deepEqual(p.sent, [1024]);
    assert.equal(p.source.paused, true, "nothing more is read while a read is being forwarded");
    p.clock.advance(1);
    await settle();
    assert.deepEqual(p.sent, [1024, 1024]);
    p.clock.advance(1);
    await settle();
    assert.deepEqual(p.sent, [1024, 1024, 952]);
    assert.equal(p.source.paused, true, "the pause after the last read comes before reading again");
    p.clock.advance(1);
    await settle();
    assert.equal(p.source.paused, false);
    assert.equal(p.pump.idle, true);
    p.pump.close();
  });

  test("none: the same 1 KiB payloads, all at once", () => {
    const p = pump("none");
    p.pump.push(Buffer.alloc(3000));
    assert.deepEqual(p.sent, [1024, 1024, 952]);
    assert.equal(p.source.paused, false);
    p.pump.close();
  });
});

/** Every Output payload the client received is at most 1 KiB, and there were at least `n`. */
function assertPaced(client: RawClient, atLeast: number): void {
  const payloads = client.outputFrames().map((f) => f.message.payload.length);
  assert.ok(payloads.length >= atLeast, `${payloads.length} Output messages, expected ≥ ${atLeast}`);
  for (const length of payloads) assert.ok(length <= 1024, `a ${length}-byte payload`);
}

interface Case {
  name: string;
  run: (emu: TestEmulator, t: { after: (fn: () => unknown) => void }) => Promise<void>;
}

const DATA = randomBytes(6000);

const CASES: Case[] = [
  {
    name: "basic port forwarding (old agent): the echo comes back in 1 KiB payloads",
    async run(emu, t) {
      const echo = await startEchoServer(t);
      const session = emu.startSession(INSTANCE.legacy, "AWS-StartPortForwardingSession", {
        portNumber: [String(echo.port)],
      });
      const client = await emu.connect(session);
      await client.until(() => client.ready, "HandshakeComplete");
      client.write(DATA);
      await client.until(() => client.receivedBytes >= DATA.length, "echo");
      assert.ok(client.data.equals(DATA));
      assertPaced(client, Math.ceil(DATA.length / 1024));
    },
  },
  {
    name: "SSH-type port session: the echo comes back in 1 KiB payloads",
    async run(emu, t) {
      const echo = await startEchoServer(t);
      const session = emu.startSession(INSTANCE.web, "AWS-StartSSHSession", {
        portNumber: [String(echo.port)],
      });
      const client = await emu.connect(session);
      await client.until(() => client.ready, "HandshakeComplete");
      client.write(DATA);
      await client.until(() => client.receivedBytes >= DATA.length, "echo");
      assert.ok(client.data.equals(DATA));
      assertPaced(client, Math.ceil(DATA.length / 1024));
    },
  },
  {
    name: "mux port forwarding: a stream's echo comes back in 1 KiB payloads",
    async run(emu, t) {
      const echo = await startEchoServer(t);
      const session = emu.startSession(INSTANCE.web, "AWS-StartPortForwardingSession", {
        portNumber: [String(echo.port)],
        localPortNumber: ["0"],
      });
      const client = await emu.connect(session);
      await client.until(() => client.ready, "HandshakeComplete");
      const mux = new MuxSession(new ClientTransport(client), { client: true, keepAlive: false });
      t.after(() => mux.close());
      const stream = mux.openStream();
      const chunks: Buffer[] = [];
      let length = 0;
      const done = new Promise<void>((resolve) =>
        stream.on("data", (c: Buffer) => {
          chunks.push(c);
          length += c.length;
          if (length >= DATA.length) resolve();
        }),
      );
      stream.write(DATA);
      await done;
      assert.ok(Buffer.concat(chunks).equals(DATA));
      assertPaced(client, Math.ceil(DATA.length / 1024));
      stream.end();
      await once(stream, "end");
    },
  },
  {
    name: "shell: command output comes back in 1 KiB payloads",
    async run(emu) {
      const session = emu.startSession(INSTANCE.web);
      const client = await emu.connect(session);
      await client.untilText("$ ");
      // The marker is computed by the shell, so the echoed command line does not contain it.
      client.write(`head -c 3000 /dev/zero | tr '\\0' x; echo " done-$((6*7))"\r`);
      await client.untilText(" done-42");
      assert.match(client.text, /x{3000} done-42/);
      assertPaced(client, 3);
    },
  },
];

describe("agent pacing realistic: every pump", () => {
  for (const c of CASES) {
    test(c.name, async (t) => {
      const emu = await startTestEmulator(t, { pacing: "realistic" });
      await c.run(emu, t);
    });
  }
});
