import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { describe, test } from "node:test";
import {
  decodeEncryptionChallenge,
  decodeHandshakeResponse,
  encodeChannelClosed,
  encodeEncryptionChallenge,
  encodeHandshakeComplete,
  encodeHandshakeRequest,
  encodeMessage,
  MessageType,
  openPayload,
  PayloadType,
  sealPayload,
  splitDataKey,
} from "@aws-runas/wire/protocol/index.js";
import { classifyAwsError } from "../../packages/aws-runas/src/aws/errors.js";
import { CLIENT_VERSION, DataChannel } from "../../packages/aws-runas/src/datachannel/index.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { ScriptedPeer } from "./scripted-peer.js";

async function setup(
  t: { after: (fn: () => unknown) => void },
  extra: Partial<Parameters<typeof DataChannel.open>[0]> = {},
) {
  const peer = await ScriptedPeer.start();
  const opened = peer.waitForOpen();
  const channel = await DataChannel.open({
    streamUrl: peer.url,
    tokenValue: "token-1",
    sessionId: "s-1",
    targetId: "i-0123456789abcdef0",
    ...extra,
  });
  await opened;
  t.after(async () => {
    channel.destroy();
    await peer.close();
  });
  return { peer, channel };
}

function collect(channel: DataChannel): () => string {
  const chunks: Buffer[] = [];
  channel.on("data", (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks).toString();
}

async function until(check: () => boolean, channel: DataChannel): Promise<void> {
  while (!check()) await once(channel, "data");
}

describe("DataChannel against a scripted peer", () => {
  test("sends OpenDataChannel with a current client version and a stable ClientId", async (t) => {
    const { peer } = await setup(t);
    const open = peer.opens[0]!;
    assert.equal(open.MessageSchemaVersion, "1.0");
    assert.equal(open.TokenValue, "token-1");
    assert.equal(open.ClientVersion, CLIENT_VERSION);
    assert.notEqual(open.ClientVersion, "1.2.0.0");
    assert.match(open.RequestId, /^[0-9a-f-]{36}$/);
    assert.match(open.ClientId ?? "", /^[0-9a-f-]{36}$/);
  });

  test("delivers in order when the peer sends out of order, and acks every message", async (t) => {
    const { peer, channel } = await setup(t);
    const text = collect(channel);
    peer.sendOutput(0, PayloadType.output, "a");
    peer.sendOutput(2, PayloadType.output, "c");
    peer.sendOutput(3, PayloadType.output, "d");
    peer.sendOutput(1, PayloadType.output, "b");
    await until(() => text().length === 4, channel);
    assert.equal(text(), "abcd");
    for (const seq of [0, 1, 2, 3]) await peer.nextAckOf(seq);
  });

  test("duplicates are delivered once and re-acknowledged", async (t) => {
    const { peer, channel } = await setup(t);
    const text = collect(channel);
    const first = peer.sendOutput(0, PayloadType.output, "x");
    peer.sendRaw(first);
    peer.sendOutput(1, PayloadType.output, "y");
    await until(() => text() === "xy", channel);
    await peer.nextAckOf(0);
    await peer.nextAckOf(0); // the duplicate was acked again
    peer.sendRaw(first);
    await peer.nextAckOf(0);
    assert.equal(text(), "xy");
    assert.equal(channel.endpoint.stats().duplicates, 2);
  });

  test("retransmits unacked input after RTO, byte-identical, until acked late", async (t) => {
    const clock = new ManualClock();
    const { peer, channel } = await setup(t, { clock });
    peer.autoAck = false;
    peer.sendOutput(0, PayloadType.output, "$ ");
    await channel.whenReady();
    channel.write("ls\n");
    const original = await peer.nextInput(0);
    clock.advance(150); // below the 200 ms initial RTO: nothing yet
    clock.advance(100);
    const resent = await peer.nextInput(0);
    assert.equal(resent.messageId, original.messageId);
    assert.equal(resent.createdDate, original.createdDate);
    assert.equal(resent.payload.toString(), "ls\n");
    peer.ack(resent);
    while (channel.endpoint.stats().unacked > 0) await new Promise((r) => setImmediate(r));
    clock.advance(2000);
    assert.equal(channel.endpoint.stats().retransmitted, 1);
  });

  test("gives up with a clear error after the retransmission limit", async (t) => {
    const clock = new ManualClock();
    const { peer, channel } = await setup(t, { clock, limits: { maxRetransmissions: 3 } });
    peer.autoAck = false;
    peer.sendOutput(0, PayloadType.output, "$ ");
    await channel.whenReady();
    channel.write("never acked");
    await peer.nextInput(0);
    const failed = once(channel, "error");
    clock.advance(10_000);
    const [error] = await failed;
    assert.equal(error.code, "CHANNEL_RETRANSMIT_LIMIT");
    assert.match(error.message, /gave up after 3 retransmissions/);
  });

  test("Port handshake: response with ProcessedClientActions, then data after HandshakeComplete", async (t) => {
    const { peer, channel } = await setup(t);
    const types: string[] = [];
    channel.on("sessionType", (s) => types.push(s.sessionType));
    channel.write("early"); // held until the handshake completes
    peer.sendOutput(
      0,
      PayloadType.handshakeRequest,
      encodeHandshakeRequest({
        AgentVersion: "3.3.40.0",
        RequestedClientActions: [
          {
            ActionType: "SessionType",
            ActionParameters: {
              SessionType: "Port",
              Properties: { portNumber: "80", type: "LocalPortForwarding" },
            },
          },
          { ActionType: "FutureAction", ActionParameters: {} },
        ],
      }),
    );
    await peer.nextAckOf(0);
    const response = await peer.nextInput(0);
    assert.equal(response.payloadType, PayloadType.handshakeResponse);
    const body = decodeHandshakeResponse(response.payload);
    assert.equal(body.ClientVersion, CLIENT_VERSION);
    assert.deepEqual(
      body.ProcessedClientActions.map((a) => [a.ActionType, a.ActionStatus]),
      [
        ["SessionType", 1],
        ["FutureAction", 3],
      ],
    );
    assert.deepEqual(types, ["Port"]);
    assert.equal(channel.agentVersion, "3.3.40.0");
    assert.equal(channel.isReady, false);
    peer.sendOutput(
      1,
      PayloadType.handshakeComplete,
      encodeHandshakeComplete({ HandshakeTimeToComplete: 1, CustomerMessage: "" }),
    );
    const data = await peer.nextInput(1);
    assert.equal(data.payloadType, PayloadType.output);
    assert.equal(data.payload.toString(), "early");
  });

  test("Standard_Stream without a handshake: the first output makes the channel ready", async (t) => {
    const { peer, channel } = await setup(t);
    const sessionType = once(channel, "sessionType");
    peer.sendOutput(0, PayloadType.output, "prompt$ ");
    assert.equal((await sessionType)[0].sessionType, "Standard_Stream");
    assert.equal(channel.isReady, true);
    channel.sendSize(120, 40);
    const size = await peer.nextInput(0);
    assert.equal(size.payloadType, PayloadType.size);
    assert.equal(size.payload.toString(), '{"cols":120,"rows":40}');
  });

  for (const sessionType of ["Standard_Stream", "Port"] as const) {
    test(`${sessionType} with KMS: data key, challenge, encrypted payloads both ways`, async (t) => {
      const dataKey = randomBytes(64);
      const keys = splitDataKey(dataKey);
      const contexts: Array<Record<string, string>> = [];
      const { peer, channel } = await setup(t, {
        generateDataKey: async (keyId, context) => {
          assert.equal(keyId, "alias/session");
          contexts.push(context);
          return { plaintext: dataKey, ciphertextBlob: Buffer.from("wrapped-key") };
        },
      });
      const text = collect(channel);
      peer.sendOutput(
        0,
        PayloadType.handshakeRequest,
        encodeHandshakeRequest({
          AgentVersion: "3.3.40.0",
          RequestedClientActions: [
            {
              ActionType: "SessionType",
              ActionParameters: { SessionType: "Standard_Stream", Properties: null },
            },
            { ActionType: "KMSEncryption", ActionParameters: { KMSKeyId: "alias/session" } },
          ],
        }),
      );
      const response = decodeHandshakeResponse((await peer.nextInput(0)).payload);
      const kms = response.ProcessedClientActions[1]!;
      assert.equal(kms.ActionStatus, 1);
      assert.deepEqual(kms.ActionResult, {
        KMSCipherTextKey: Buffer.from("wrapped-key").toString("base64"),
        KMSCipherTextHash: null,
      });
      assert.deepEqual(contexts, [{ "aws:ssm:SessionId": "s-1", "aws:ssm:TargetId": "i-0123456789abcdef0" }]);

      const challenge = randomBytes(64);
      peer.sendOutput(
        1,
        PayloadType.encChallengeRequest,
        encodeEncryptionChallenge({
          Challenge: sealPayload(keys.agentToClient, randomBytes(12), challenge).toString("base64"),
        }),
      );
      const answer = await peer.nextInput(1);
      assert.equal(answer.payloadType, PayloadType.encChallengeResponse);
      const sealed = Buffer.from(decodeEncryptionChallenge(answer.payload).Challenge, "base64");
      assert.deepEqual(openPayload(keys.clientToAgent, sealed), challenge);

      const ready = once(channel, "ready");
      peer.sendOutput(
        2,
        PayloadType.handshakeComplete,
        encodeHandshakeComplete({
          HandshakeTimeToComplete: 5,
          CustomerMessage: "This session is encrypted using AWS KMS.",
        }),
      );
      assert.deepEqual((await ready)[0], {
        customerMessage: "This session is encrypted using AWS KMS.",
        encrypted: true,
      });
      peer.sendOutput(
        3,
        PayloadType.output,
        sealPayload(keys.agentToClient, randomBytes(12), Buffer.from("secret output")),
      );
      await until(() => text() === "secret output", channel);
      channel.write("typed");
      const input = await peer.nextInput(2);
      assert.notEqual(input.payload.toString(), "typed");
      assert.equal(openPayload(keys.clientToAgent, input.payload).toString(), "typed");
      channel.sendSize(80, 24);
      assert.equal((await peer.nextInput(3)).payload.toString(), '{"cols":80,"rows":24}'); // Size stays clear text
    });
  }

  test("channel_closed ends the channel with the peer's message", async (t) => {
    const { peer, channel } = await setup(t);
    channel.resume();
    const closed = once(channel, "channelClosed");
    const ended = once(channel, "end");
    peer.sendRaw(
      encodeMessage({
        messageType: MessageType.channelClosed,
        schemaVersion: 1,
        createdDate: Date.now(),
        sequenceNumber: 0,
        flags: 3,
        messageId: "dd01e56b-ff48-483e-a508-b5f073f31b16",
        payloadType: 0,
        payload: encodeChannelClosed({
          MessageId: "dd01e56b-ff48-483e-a508-b5f073f31b16",
          CreatedDate: new Date().toISOString(),
          DestinationId: "i-0123456789abcdef0",
          SessionId: "s-1",
          MessageType: "channel_closed",
          SchemaVersion: 1,
          Output: "Session terminated by admin",
        }),
      }),
    );
    assert.deepEqual((await closed)[0], { output: "Session terminated by admin" });
    await ended;
  });

  test("resumes after a websocket drop: new token, same ClientId, unacked data resent, seqs continue", async (t) => {
    let resumes = 0;
    const { peer, channel } = await setup(t, {
      resume: async () => {
        resumes++;
        return { tokenValue: `token-${resumes + 1}` };
      },
      reconnectDelayMs: 1,
    });
    peer.sendOutput(0, PayloadType.output, "$ ");
    await channel.whenReady();
    peer.autoAck = false;
    channel.write("one");
    await peer.nextInput(0);
    const reopened = peer.waitForOpen();
    peer.dropConnection();
    await reopened;
    assert.equal(resumes, 1);
    assert.equal(peer.opens[1]!.TokenValue, "token-2");
    assert.equal(peer.opens[1]!.ClientId, peer.opens[0]!.ClientId);
    assert.notEqual(peer.opens[1]!.RequestId, peer.opens[0]!.RequestId);
    const again = await peer.nextInput(0);
    assert.equal(again.payload.toString(), "one");
    peer.ack(again);
    peer.autoAck = true;
    channel.write("two");
    assert.equal((await peer.nextInput(1)).payload.toString(), "two");
  });

  // Issue 15 item 7: the resume loop asks src/aws/errors.ts, not error names. A networking
  // failure of ResumeSession (once treated as final) is retried; a definite answer is not.
  test("ResumeSession failing on the network is retried; access denied ends the channel at once", async (t) => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:443"), { code: "ECONNREFUSED" });
    let calls = 0;
    const { peer, channel } = await setup(t, {
      resume: async () => {
        calls++;
        if (calls <= 2) throw classifyAwsError(refused, "SSM ResumeSession");
        return { tokenValue: "token-2" };
      },
      reconnectDelayMs: 1,
    });
    peer.sendOutput(0, PayloadType.output, "$ ");
    await channel.whenReady();
    const reopened = peer.waitForOpen();
    peer.dropConnection();
    await reopened;
    assert.equal(calls, 3);
    assert.equal(peer.opens[1]!.TokenValue, "token-2");

    const denied = Object.assign(new Error("User: bob is not authorized"), {
      name: "AccessDeniedException",
      $metadata: { httpStatusCode: 400 },
    });
    let deniedCalls = 0;
    const second = await setup(t, {
      resume: async () => {
        deniedCalls++;
        throw classifyAwsError(denied, "SSM ResumeSession");
      },
      reconnectDelayMs: 1,
    });
    second.peer.sendOutput(0, PayloadType.output, "$ ");
    await second.channel.whenReady();
    const failed = once(second.channel, "error");
    second.peer.dropConnection();
    const [error] = (await failed) as [Error & { code: string }];
    assert.equal(error.code, "CHANNEL_LOST");
    assert.match(error.message, /access denied/);
    assert.equal(deniedCalls, 1);
  });

  test("a drop without a resume function ends the channel with CHANNEL_LOST", async (t) => {
    const { peer, channel } = await setup(t);
    const failed = once(channel, "error");
    peer.dropConnection();
    assert.equal((await failed)[0].code, "CHANNEL_LOST");
  });

  test("1 MiB written arrives intact, split into payloads of at most 1024 bytes", async (t) => {
    const { peer, channel } = await setup(t);
    peer.sendOutput(0, PayloadType.output, "$ ");
    await channel.whenReady();
    const data = randomBytes(1024 * 1024);
    channel.end(data);
    const parts: Buffer[] = [];
    for (let seq = 0; parts.length < 1024; seq++) {
      const m = await peer.nextInput(seq);
      assert.ok(m.payload.length <= 1024);
      parts.push(Buffer.from(m.payload));
    }
    const got = Buffer.concat(parts);
    assert.equal(
      createHash("sha256").update(got).digest("hex"),
      createHash("sha256").update(data).digest("hex"),
    );
  });

  test("close() is idempotent", async (t) => {
    const { channel } = await setup(t);
    channel.close();
    channel.close();
    channel.close();
    assert.equal(channel.endpoint.closed, true);
  });
});

describe("DataChannel over TLS", () => {
  test("wss:// with a trusted CA: OpenDataChannel arrives and data flows both ways", async (t) => {
    const { execFileSync } = await import("node:child_process");
    const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { createServer } = await import("node:https");
    const { WebSocketServer } = await import("ws");
    const dir = mkdtempSync(join(tmpdir(), "runas-tls-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    const cert = readFileSync(join(dir, "cert.pem"));
    const https = createServer({ key: readFileSync(join(dir, "key.pem")), cert });
    const wss = new WebSocketServer({ server: https });
    const frames: Buffer[] = [];
    let open = "";
    wss.on("connection", (ws) => {
      ws.once("message", (text) => {
        open = String(text);
        ws.on("message", (f: Buffer) => frames.push(f));
        ws.send(
          encodeMessage({
            messageType: MessageType.outputStreamData,
            schemaVersion: 1,
            createdDate: Date.now(),
            sequenceNumber: 0,
            flags: 1,
            messageId: "dd01e56b-ff48-483e-a508-b5f073f31b16",
            payloadType: PayloadType.output,
            payload: Buffer.from("tls-hello"),
          }),
        );
      });
    });
    https.listen(0, "127.0.0.1");
    await once(https, "listening");
    t.after(() => {
      for (const c of wss.clients) c.terminate();
      https.close();
    });
    const port = (https.address() as { port: number }).port;
    const channel = await DataChannel.open({
      streamUrl: `wss://localhost:${port}/v1/data-channel/s-1?role=publish_subscribe`,
      tokenValue: "tls-token",
      sessionId: "s-1",
      targetId: "i-0123456789abcdef0",
      ca: cert,
    });
    t.after(() => channel.destroy());
    const [data] = await once(channel, "data");
    assert.equal(String(data), "tls-hello");
    assert.match(open, /"TokenValue":"tls-token"/);
    channel.write("over-tls");
    while (!frames.some((f) => f.includes("over-tls"))) await new Promise((r) => setTimeout(r, 10));
  });
});
