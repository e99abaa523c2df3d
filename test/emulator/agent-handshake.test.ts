import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { PayloadType } from "@aws-runas/wire/protocol/index.js";
import {
  HANDSHAKE_TIMEOUT_MESSAGE,
  KMS_CUSTOMER_MESSAGE,
} from "../../packages/emulator/src/agent/handshake.js";
import { INSTANCE, KMS_KEY } from "../../packages/emulator/src/index.js";
import { startEchoServer, startTestEmulator } from "./helpers/emulator.js";

describe("agent: KMS-encrypted shell", () => {
  test("handshake with KMS: challenge verified, payloads encrypted on the wire both ways", async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.kms);
    const client = await emu.connect(session, { generateDataKey: emu.generateDataKey });
    await client.untilText("$ ");

    assert.deepEqual(client.handshakeRequest?.RequestedClientActions, [
      { ActionType: "SessionType", ActionParameters: { SessionType: "Standard_Stream", Properties: null } },
      { ActionType: "KMSEncryption", ActionParameters: { KMSKeyId: KMS_KEY.keyId } },
    ]);
    const types = client.outputFrames().map((f) => f.message.payloadType);
    assert.deepEqual(types.slice(0, 3), [
      PayloadType.handshakeRequest,
      PayloadType.encChallengeRequest,
      PayloadType.handshakeComplete,
    ]);
    assert.equal(client.handshakeComplete?.CustomerMessage, KMS_CUSTOMER_MESSAGE);
    assert.ok(emu.gateway.session(session.sessionId)?.agent.encrypted);

    // The client's keystrokes are sealed too: the shell can only echo the marker if the agent decrypted them.
    const tag = randomBytes(6).toString("hex");
    const marker = `secret-${tag}-42`; // only the shell's output has it, not the echoed input
    client.write(`echo secret-${tag}-$((6*7))\r`);
    await client.untilText(marker);
    const data = client.outputFrames().filter((f) => f.message.payloadType === PayloadType.output);
    assert.ok(data.length >= 2);
    for (const frame of data) {
      assert.ok(!frame.message.payload.includes(marker), "no plaintext on the wire");
      assert.ok(!frame.message.payload.includes("$ "), "no plaintext prompt on the wire");
    }
    // nonce(12) ‖ ciphertext ‖ tag(16): every payload is 28 bytes longer than what it carries.
    const plainBytes = client.data.length;
    const wireBytes = data.reduce((n, f) => n + f.message.payload.length, 0);
    assert.equal(wireBytes - plainBytes, 28 * data.length);
  });

  test("a data key made for another target fails the KMS decrypt context check", async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.kms);
    const client = await emu.connect(session, {
      generateDataKey: emu.generateDataKey,
      targetId: INSTANCE.web,
    });
    await client.untilClosed();
    assert.match(client.channelClosed ?? "", /^Failed to decrypt the KMS data key/);
    assert.equal(client.handshakeComplete, undefined);
  });

  test("no HandshakeResponse in time: the session fails with the agent's message", async (t) => {
    const emu = await startTestEmulator(t, { handshakeTimeoutMs: 150 });
    const echo = await startEchoServer(t);
    const session = emu.startSession(INSTANCE.web, "AWS-StartPortForwardingSession", {
      portNumber: [String(echo.port)],
    });
    const client = await emu.connect(session, { autoHandshake: false });
    await client.untilClosed();
    assert.equal(client.channelClosed, HANDSHAKE_TIMEOUT_MESSAGE);
  });

  test("a failed action in the HandshakeResponse cancels the session", async (t) => {
    const emu = await startTestEmulator(t);
    const echo = await startEchoServer(t);
    const session = emu.startSession(INSTANCE.web, "AWS-StartPortForwardingSession", {
      portNumber: [String(echo.port)],
    });
    const client = await emu.connect(session, {
      editResponse: (r) => ({
        ...r,
        ProcessedClientActions: r.ProcessedClientActions.map((a) => ({
          ...a,
          ActionStatus: 2,
          Error: "nope",
        })),
      }),
    });
    await client.untilClosed();
    assert.equal(client.channelClosed, "SessionType failed on client with status 2 error: nope");
  });

  test("input sent before HandshakeComplete is acked and dropped", async (t) => {
    const emu = await startTestEmulator(t);
    const echo = await startEchoServer(t, "got:");
    const session = emu.startSession(INSTANCE.web, "AWS-StartPortForwardingSession", {
      portNumber: [String(echo.port)],
      localPortNumber: ["0"],
    });
    const client = await emu.connect(session, { clientVersion: "1.1.0.0", autoHandshake: false });
    await client.until(() => client.handshakeRequest !== undefined, "HandshakeRequest");
    client.write("early"); // client seq 0: not a HandshakeResponse
    await client.until(() => client.endpoint.stats().unacked === 0, "ack of the early data");
    assert.equal(client.channelClosed, undefined);
    assert.equal(echo.connections(), 0, "nothing reached the target");
  });
});
