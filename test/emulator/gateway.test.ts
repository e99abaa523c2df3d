import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { describe, test } from "node:test";
import { MessageType } from "@aws-runas/wire/protocol/index.js";
import WebSocket from "ws";
import { CLOSE_POLICY_VIOLATION } from "../../packages/emulator/src/gateway/gateway.js";
import { INSTANCE } from "../../packages/emulator/src/index.js";
import { startTestEmulator } from "./helpers/emulator.js";

describe("gateway: websocket admission", () => {
  test("a wrong token closes the websocket with 1008 and sends no data", async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.web);
    const client = await emu.connect(session, {});
    const intruder = await emu.connect(session, { token: "not-the-token" });
    await intruder.until(() => intruder.closeCodes.length > 0, "close");
    assert.deepEqual(intruder.closeCodes, [CLOSE_POLICY_VIOLATION]);
    assert.equal(intruder.frames.length, 0);
    // The rightful client is not disturbed.
    await client.untilText("$ ");
    assert.equal(client.closeCodes.length, 0);
  });

  test("a binary first frame (no OpenDataChannel) is refused with 1008", async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.web);
    const ws = new WebSocket(emu.urlOf(session));
    t.after(() => ws.terminate());
    await once(ws, "open");
    const frames: Buffer[] = [];
    ws.on("message", (d: Buffer) => frames.push(d));
    ws.send(Buffer.from([1, 2, 3]));
    const [code] = (await once(ws, "close")) as [number];
    assert.equal(code, CLOSE_POLICY_VIOLATION);
    assert.equal(frames.length, 0);
  });

  test("an unknown session id and a foreign path are refused", async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.web);
    const ghost = await emu.connect({ ...session, sessionId: "alice-00000000000000000" } as typeof session);
    await ghost.until(() => ghost.closeCodes.length > 0, "close");
    assert.deepEqual(ghost.closeCodes, [CLOSE_POLICY_VIOLATION]);

    const ws = new WebSocket(`ws://127.0.0.1:${emu.emulator.port}/v2/elsewhere`);
    ws.on("error", () => {});
    const [, response] = (await once(ws, "unexpected-response")) as [unknown, { statusCode: number }];
    assert.equal(response.statusCode, 404);
    ws.terminate();
  });
});

describe("gateway: reconnects", () => {
  test("ResumeSession token: a new websocket resumes the same shell, sequence numbers continue", async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.web);
    const oldToken = session.token;
    const client = await emu.connect(session);
    await client.untilText("$ ");
    client.write("X=kept-$((1+1))\r");
    const tag = randomBytes(3).toString("hex");
    client.write(`echo first-${tag}-$((2*2))\r`);
    await client.untilText(`first-${tag}-4`);
    const lastSeqBefore = Math.max(...client.outputFrames().map((f) => f.message.sequenceNumber));
    const expectedBefore = client.endpoint.stats().expectedIncomingSeq;

    const newToken = emu.emulator.sessions.rotateToken(session.sessionId)!;
    assert.notEqual(newToken, oldToken);
    await client.reconnect(newToken);
    // Shell state survived: the variable set before the reconnect is still there.
    client.write(`echo second-$X-${tag}\r`);
    await client.untilText(`second-kept-2-${tag}`);

    const after = client.outputFrames().filter((f) => f.connection === 2);
    assert.ok(after.length > 0);
    assert.ok(Math.min(...after.map((f) => f.message.sequenceNumber)) > 0, "no restart at seq 0");
    assert.ok(client.endpoint.stats().expectedIncomingSeq > expectedBefore);
    assert.ok(after.some((f) => f.message.sequenceNumber > lastSeqBefore));
    assert.equal(emu.gateway.session(session.sessionId)?.connections, 2);
    assert.equal(emu.emulator.sessions.get(session.sessionId)?.state, "Connected");

    // The replaced token no longer opens the channel.
    const stale = await emu.connect(session, { token: oldToken });
    await stale.until(() => stale.closeCodes.length > 0, "close");
    assert.deepEqual(stale.closeCodes, [CLOSE_POLICY_VIOLATION]);
  });

  test("a second websocket replaces the first; output produced while away is delivered after", async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.web);
    const client = await emu.connect(session);
    await client.untilText("$ ");
    const tag = randomBytes(3).toString("hex");
    client.write(`sleep 0.2; echo away-${tag}-$((3*3))\r`);
    await client.until(() => client.endpoint.stats().unacked === 0, "command acked");
    // The client vanishes without a close frame (as the plugin does); the agent buffers.
    client.ws?.terminate();
    await client.until(() => client.ws === null, "socket gone");
    await client.reconnect(session.token);
    await client.untilText(`away-${tag}-9`);
    const hits = client.text.split(`away-${tag}-9`).length - 1;
    assert.equal(hits, 1, "delivered exactly once");
    // The intruder below acks what it receives, so output sent while it holds the session would
    // never reach this client: let the shell finish its prompt first.
    await client.until(
      () => /\$ $/.test(client.text.split(`away-${tag}-9`)[1] ?? ""),
      "prompt after the output",
    );

    // Another websocket with the same token takes over; the older one is cut.
    const closesBefore = client.closeCodes.length;
    const intruder = await emu.connect(session);
    await client.until(() => client.closeCodes.length > closesBefore, "first socket replaced");
    assert.equal(emu.gateway.session(session.sessionId)?.connections, 3);
    // And the original client can take it back and carry on.
    await client.reconnect(session.token);
    await intruder.until(() => intruder.closeCodes.length > 0, "intruder replaced");
    client.write(`echo back-$((5*5))\r`);
    await client.untilText("back-25");
  });
});

describe("gateway: channel_closed", () => {
  test("TerminateSession before any client connects: the session is gone for good", async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.web);
    emu.emulator.sessions.terminate(session.sessionId);
    const client = await emu.connect(session);
    await client.until(() => client.closeCodes.length > 0, "close");
    assert.equal(
      client.frames.filter((f) => f.message.messageType === MessageType.outputStreamData).length,
      0,
      "no agent data for a terminated session",
    );
  });
});
