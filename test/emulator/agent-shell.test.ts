import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { MessageType, PayloadType } from "@aws-runas/wire/protocol/index.js";
import { INSTANCE } from "../../packages/emulator/src/index.js";
import { startTestEmulator } from "./helpers/emulator.js";

describe("agent: Standard_Stream shell", () => {
  test("runs a shell in a pty: prompt, Size first, echo, exit → channel_closed", async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.web);
    const client = await emu.connect(session);
    // No handshake for a plain shell: the first output (the prompt) is the agent's seq 0.
    await client.untilText("$ ");
    const first = client.outputFrames()[0]!.message;
    assert.equal(first.sequenceNumber, 0);
    assert.equal(first.flags, 1, "the agent marks seq 0 SYN");
    assert.equal(first.payloadType, PayloadType.output);
    assert.equal(client.handshakeRequest, undefined);

    client.sendSize(100, 30);
    const tag = randomBytes(4).toString("hex");
    client.write("stty size; echo ");
    client.write(`hello-${tag}-$((6*7))\r`); // two messages, one command line
    await client.untilText(`hello-${tag}-42`);
    assert.match(client.text, /30 100/);
    for (const f of client.outputFrames()) assert.ok(f.message.payload.length <= 1027);

    client.write("exit\r");
    await client.untilClosed();
    const closed = client.frames.find((f) => f.message.messageType === MessageType.channelClosed)!.message;
    assert.equal(closed.sequenceNumber, 0);
    assert.equal(closed.flags, 3);
    assert.equal(closed.payloadType, 0);
    const body = JSON.parse(closed.payload.toString());
    assert.equal(body.SessionId, session.sessionId);
    assert.equal(body.DestinationId, INSTANCE.web);
    assert.equal(body.MessageType, "channel_closed");
    assert.equal(typeof body.CreatedDate, "string");
    assert.equal(body.Output, "");
    assert.equal(emu.emulator.sessions.get(session.sessionId)?.state, "Terminated");
  });

  test("AWS-StartInteractiveCommand runs the command and ends with channel_closed", async (t) => {
    const emu = await startTestEmulator(t);
    const marker = randomBytes(4).toString("hex");
    const session = emu.startSession(INSTANCE.web, "AWS-StartInteractiveCommand", {
      command: [`echo cmd-${marker}-$((6*7))`],
    });
    const client = await emu.connect(session);
    await client.untilClosed();
    assert.match(client.text, new RegExp(`cmd-${marker}-42`));
    assert.equal(client.handshakeRequest, undefined);
  });

  test("TerminateSession from the registry ends a running shell with channel_closed", async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.web);
    const client = await emu.connect(session);
    await client.untilText("$ ");
    emu.emulator.sessions.terminate(session.sessionId);
    await client.untilClosed();
    assert.equal(emu.gateway.session(session.sessionId), undefined);
  });
});
