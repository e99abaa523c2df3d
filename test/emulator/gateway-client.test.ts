/**
 * The emulator's gateway and agent against the product's own data-channel client
 * (src/datachannel DataChannel): shell, KMS, mux port forwarding and resume after dropped sockets.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { describe, test } from "node:test";
import { DataChannel } from "../../packages/aws-runas/src/datachannel/index.js";
import { MuxSession } from "../../packages/aws-runas/src/mux/index.js";
import { type EmulatorSession, INSTANCE, KMS_KEY } from "../../packages/emulator/src/index.js";
import { startEchoServer, startTestEmulator, type TestEmulator } from "./helpers/emulator.js";

async function open(
  t: { after: (fn: () => unknown) => void },
  emu: TestEmulator,
  session: EmulatorSession,
  withResume = false,
): Promise<{ channel: DataChannel; text: () => string; until: (needle: string) => Promise<void> }> {
  const channel = await DataChannel.open({
    streamUrl: emu.urlOf(session),
    tokenValue: session.token,
    sessionId: session.sessionId,
    targetId: session.target,
    generateDataKey: emu.generateDataKey,
    resume: withResume
      ? async () => ({ tokenValue: emu.emulator.sessions.rotateToken(session.sessionId) })
      : undefined,
    reconnectDelayMs: 10,
  });
  t.after(() => channel.destroy());
  const chunks: Buffer[] = [];
  channel.on("data", (c: Buffer) => chunks.push(c));
  const text = () => Buffer.concat(chunks).toString();
  const until = async (needle: string) => {
    while (!text().includes(needle)) {
      await Promise.race([
        once(channel, "data"),
        once(channel, "close").then(() => {
          throw new Error(`channel closed before ${needle}: ${text().slice(-200)}`);
        }),
      ]);
    }
  };
  return { channel, text, until };
}

describe("gateway + agent with the DataChannel client", () => {
  test("shell: output, input, exit → channelClosed", async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.web);
    const { channel, until } = await open(t, emu, session);
    await channel.whenReady();
    channel.sendSize(120, 40);
    channel.write("echo dc-$((20+1))\r");
    await until("dc-21");
    const closed = once(channel, "channelClosed");
    channel.write("exit\r");
    await closed;
  });

  test("KMS shell: encrypted session, customer message, echo works", async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.kms);
    const { channel, until } = await open(t, emu, session);
    const [info] = (await once(channel, "ready")) as [{ customerMessage: string; encrypted: boolean }];
    assert.deepEqual(info, { customerMessage: "This session is encrypted using AWS KMS.", encrypted: true });
    assert.equal(emu.emulator.sessions.get(session.sessionId)?.kmsKeyId, KMS_KEY.keyId);
    channel.write("echo kms-$((40+2))\r");
    await until("kms-42");
  });

  test("mux port forwarding: concurrent smux streams over the DataChannel", async (t) => {
    const emu = await startTestEmulator(t);
    const echo = await startEchoServer(t);
    const session = emu.startSession(INSTANCE.web, "AWS-StartPortForwardingSession", {
      portNumber: [String(echo.port)],
    });
    const { channel } = await open(t, emu, session);
    await channel.whenReady();
    assert.equal(channel.agentVersion, "3.3.40.0");
    const mux = new MuxSession(channel, { client: true, keepAlive: false });
    t.after(() => mux.close());
    const payloads = [randomBytes(70_000), randomBytes(3000), randomBytes(1)];
    const results = await Promise.all(
      payloads.map(async (p) => {
        const stream = mux.openStream();
        const got: Buffer[] = [];
        let n = 0;
        const done = new Promise<void>((resolve) =>
          stream.on("data", (c: Buffer) => {
            got.push(c);
            n += c.length;
            if (n >= p.length) resolve();
          }),
        );
        stream.end(p);
        await done;
        return Buffer.concat(got);
      }),
    );
    for (const [i, r] of results.entries()) assert.ok(r.equals(payloads[i]!), `stream ${i} echoed intact`);
    assert.equal(echo.connections(), 3);
  });

  test("drop-websocket-after: the client resumes again and again and gets every byte once", async (t) => {
    const emu = await startTestEmulator(t, { faults: { dropWebsocketAfter: 12 } });
    // ~190 KB of output: dozens of frames, so a drop every 12 frames happens several times.
    const session = emu.startSession(INSTANCE.web, "AWS-StartInteractiveCommand", {
      command: ["for i in $(seq 1 20000); do echo row-$i; done"],
    });
    const { channel, text } = await open(t, emu, session, true);
    let resumes = 0;
    channel.on("resumed", () => resumes++);
    await once(channel, "end"); // after channelClosed, once every byte before it was read
    const rows = text().match(/row-\d+/g) ?? [];
    assert.equal(rows.length, 20000);
    assert.equal(new Set(rows).size, 20000);
    assert.ok(resumes >= 2, `resumed ${resumes} times`);
  });
});
