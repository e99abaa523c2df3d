import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { describe, test } from "node:test";
import {
  decodeAcknowledge,
  decodeHandshakeComplete,
  FlagValue,
  MessageType,
  PayloadType,
} from "@aws-runas/wire/protocol/index.js";
import { MuxSession } from "../../packages/aws-runas/src/mux/session.js";
import type { MuxStream } from "../../packages/aws-runas/src/mux/stream.js";
import { AGENT_VERSION, INSTANCE, REMOTE_HOSTS } from "../../packages/emulator/src/index.js";
import { closedPort, startBannerServer, startEchoServer, startTestEmulator } from "./helpers/emulator.js";
import { ClientTransport } from "./helpers/mux-transport.js";
import type { RawClient } from "./helpers/raw-client.js";

function forward(port: number): Record<string, string[]> {
  return { portNumber: [String(port)], localPortNumber: ["0"] };
}

/** Sends `text` through a stream and resolves with `expected.length` bytes read back. */
async function roundTrip(stream: MuxStream, text: string, expectedLength: number): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  const done = new Promise<void>((resolve) => {
    stream.on("data", (c: Buffer) => {
      chunks.push(c);
      length += c.length;
      if (length >= expectedLength) resolve();
    });
  });
  stream.write(text);
  await done;
  return Buffer.concat(chunks).toString();
}

function muxClient(t: { after: (fn: () => unknown) => void }, client: RawClient): MuxSession {
  const mux = new MuxSession(new ClientTransport(client), { client: true, keepAlive: false });
  t.after(() => mux.close());
  return mux;
}

describe("agent: Port sessions", () => {
  test("handshake on the wire: HandshakeRequest seq 0, ack of the response, then HandshakeComplete", async (t) => {
    const emu = await startTestEmulator(t);
    const echo = await startEchoServer(t);
    const session = emu.startSession(INSTANCE.web, "AWS-StartPortForwardingSession", forward(echo.port));
    const client = await emu.connect(session);
    await client.until(() => client.ready, "HandshakeComplete");

    const fromAgent = client.frames.map((f) => f.message);
    const request = fromAgent[0]!;
    assert.equal(request.messageType, MessageType.outputStreamData);
    assert.equal(request.sequenceNumber, 0);
    assert.equal(request.flags, 1);
    assert.equal(request.payloadType, PayloadType.handshakeRequest);
    assert.deepEqual(client.handshakeRequest, {
      AgentVersion: AGENT_VERSION.modern,
      RequestedClientActions: [
        {
          ActionType: "SessionType",
          ActionParameters: {
            SessionType: "Port",
            Properties: { portNumber: String(echo.port), type: "LocalPortForwarding", localPortNumber: "0" },
          },
        },
      ],
    });
    const ackIndex = fromAgent.findIndex(
      (m) =>
        m.messageType === MessageType.acknowledge &&
        decodeAcknowledge(m.payload).AcknowledgedMessageSequenceNumber === 0 &&
        decodeAcknowledge(m.payload).AcknowledgedMessageType === MessageType.inputStreamData,
    );
    const completeIndex = fromAgent.findIndex((m) => m.payloadType === PayloadType.handshakeComplete);
    assert.ok(ackIndex > 0, "the agent acked the HandshakeResponse (client seq 0)");
    assert.ok(completeIndex > ackIndex, "HandshakeComplete follows the ack");
    const complete = fromAgent[completeIndex]!;
    assert.equal(complete.sequenceNumber, 1);
    assert.equal(complete.flags, 0);
    const body = decodeHandshakeComplete(complete.payload);
    assert.equal(body.CustomerMessage, "");
    assert.ok(Number.isInteger(body.HandshakeTimeToComplete) && body.HandshakeTimeToComplete > 0);
    assert.equal(emu.gateway.session(session.sessionId)?.agent.portMode?.mode, "mux");
  });

  test("basic mode (old agent): echo, DisconnectToPort, then a second connection", async (t) => {
    const emu = await startTestEmulator(t);
    const echo = await startEchoServer(t, "echo:");
    const session = emu.startSession(INSTANCE.legacy, "AWS-StartPortForwardingSession", forward(echo.port));
    const client = await emu.connect(session);
    await client.until(() => client.ready, "HandshakeComplete");
    assert.equal(client.handshakeRequest?.AgentVersion, AGENT_VERSION.basic);
    assert.equal(emu.gateway.session(session.sessionId)?.agent.portMode?.mode, "basic");

    client.write("one");
    await client.untilText("echo:one");
    assert.equal(echo.connections(), 1);

    client.sendFlag(FlagValue.disconnectToPort);
    client.write("two");
    await client.untilText("echo:two");
    assert.equal(echo.connections(), 2, "the agent dialled again after DisconnectToPort");
    assert.equal(client.channelClosed, undefined, "a LocalPortForwarding session outlives its connections");
  });

  test("basic mode for a client older than 1.1.70, even on a new agent", async (t) => {
    const emu = await startTestEmulator(t);
    const echo = await startEchoServer(t);
    const session = emu.startSession(INSTANCE.web, "AWS-StartPortForwardingSession", forward(echo.port));
    const client = await emu.connect(session, { clientVersion: "1.1.61.0" });
    await client.until(() => client.ready, "HandshakeComplete");
    assert.equal(emu.gateway.session(session.sessionId)?.agent.portMode?.mode, "basic");
    client.write("plain");
    await client.untilText("plain");
  });

  test("mux mode: two smux streams echo concurrently", async (t) => {
    const emu = await startTestEmulator(t);
    const echo = await startEchoServer(t, "e:");
    const session = emu.startSession(INSTANCE.web, "AWS-StartPortForwardingSession", forward(echo.port));
    const client = await emu.connect(session);
    await client.until(() => client.ready, "HandshakeComplete");
    const mode = emu.gateway.session(session.sessionId)?.agent.portMode;
    assert.deepEqual(mode, { mode: "mux", keepAlive: false });

    const mux = muxClient(t, client);
    const a = mux.openStream();
    const b = mux.openStream();
    const big = randomBytes(5000).toString("hex"); // several 1 KiB Output messages
    const [ra, rb] = await Promise.all([roundTrip(a, big, big.length + 2), roundTrip(b, "bee", 5)]);
    assert.equal(ra, `e:${big}`);
    assert.equal(rb, "e:bee");
    assert.equal(echo.connections(), 2);
    a.end();
    b.end();
    await Promise.all([once(a, "end"), once(b, "end")]);
  });

  test("mux mode: a stream to a closed port gets ConnectToPortError and is closed", async (t) => {
    const emu = await startTestEmulator(t);
    const port = await closedPort();
    const session = emu.startSession(INSTANCE.web, "AWS-StartPortForwardingSession", forward(port));
    const client = await emu.connect(session);
    await client.until(() => client.ready, "HandshakeComplete");
    const flags: number[] = [];
    client.on("flag", (f: number) => flags.push(f));
    const mux = muxClient(t, client);
    const stream = mux.openStream();
    stream.resume();
    await once(stream, "end");
    assert.deepEqual(flags, [FlagValue.connectToPortError]);
    assert.equal(client.channelClosed, undefined, "the session survives a failed stream");
  });

  test("SSH-type session (no type): target EOF ends the session after the data", async (t) => {
    const emu = await startTestEmulator(t);
    const banner = await startBannerServer(t, "SSH-2.0-Emulated\r\n");
    const session = emu.startSession(INSTANCE.web, "AWS-StartSSHSession", {
      portNumber: [String(banner.port)],
    });
    const client = await emu.connect(session);
    await client.untilClosed();
    assert.equal(client.text, "SSH-2.0-Emulated\r\n");
    assert.equal(emu.gateway.session(session.sessionId), undefined);
  });

  test("remote host, basic mode: a fixture remoteHost maps to 127.0.0.1; an unknown host fails the start-time dial", async (t) => {
    const emu = await startTestEmulator(t);
    const echo = await startEchoServer(t, "r:");
    const good = emu.startSession(INSTANCE.legacy, "AWS-StartPortForwardingSessionToRemoteHost", {
      host: [REMOTE_HOSTS[0]!],
      portNumber: [String(echo.port)],
    });
    const client = await emu.connect(good);
    await client.until(() => client.ready, "HandshakeComplete");
    client.write("x");
    await client.untilText("r:x");

    const bad = emu.startSession(INSTANCE.legacy, "AWS-StartPortForwardingSessionToRemoteHost", {
      host: ["example.com"],
      portNumber: [String(echo.port)],
    });
    const refused = await emu.connect(bad);
    await refused.untilClosed();
    assert.match(refused.channelClosed ?? "", /example\.com/);
    assert.equal(echo.connections(), 1);
  });

  test("mux mode, remote host: a *.test.internal name reaches 127.0.0.1; an unresolvable name fails each stream like the agent", async (t) => {
    const emu = await startTestEmulator(t);
    const echo = await startEchoServer(t, "w:");
    const good = emu.startSession(INSTANCE.web, "AWS-StartPortForwardingSessionToRemoteHost", {
      host: ["svc-7.test.internal"],
      portNumber: [String(echo.port)],
      localPortNumber: ["0"],
    });
    const client = await emu.connect(good);
    await client.until(() => client.ready, "HandshakeComplete");
    const stream = muxClient(t, client).openStream();
    assert.equal(await roundTrip(stream, "hi", 4), "w:hi");
    stream.end();

    const unknown = emu.startSession(INSTANCE.web, "AWS-StartPortForwardingSessionToRemoteHost", {
      host: ["nowhere.example"],
      portNumber: [String(echo.port)],
      localPortNumber: ["0"],
    });
    const other = await emu.connect(unknown);
    await other.until(() => other.ready, "HandshakeComplete");
    const flags: number[] = [];
    other.on("flag", (f: number) => flags.push(f));
    const mux = muxClient(t, other);
    for (let i = 1; i <= 2; i++) {
      const s = mux.openStream();
      s.resume();
      await once(s, "end");
      assert.deepEqual(flags, Array(i).fill(FlagValue.connectToPortError), "one flag per failed stream");
    }
    assert.equal(other.channelClosed, undefined, "the session survives, as the agent's does");
    assert.equal(echo.connections(), 1);
  });

  test("a denied address (IMDS) fails the session at start with 'forbidden'", async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.web, "AWS-StartPortForwardingSessionToRemoteHost", {
      host: ["169.254.169.254"],
      portNumber: ["80"],
      localPortNumber: ["0"],
    });
    const client = await emu.connect(session);
    await client.untilClosed();
    assert.match(client.channelClosed ?? "", /^Forwarding to IP address 169\.254\.169\.254 is forbidden\.$/);
  });

  test("Flag TerminateSession ends a port session", async (t) => {
    const emu = await startTestEmulator(t);
    const echo = await startEchoServer(t);
    const session = emu.startSession(INSTANCE.legacy, "AWS-StartPortForwardingSession", forward(echo.port));
    const client = await emu.connect(session);
    await client.until(() => client.ready, "HandshakeComplete");
    client.sendFlag(FlagValue.terminateSession);
    await client.untilClosed();
  });
});
