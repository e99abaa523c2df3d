/**
 * Basic-mode port forwarding (ssm-protocol.md §7.2) against a scripted agent: a real DataChannel
 * and real local sockets, with the agent's side written frame by frame, so a test decides exactly
 * when output is in flight and when DisconnectToPort is acknowledged. Issue 14, Invariant 2.
 */
import assert from "node:assert/strict";
import type { Server, Socket } from "node:net";
import { describe, test } from "node:test";
import { createLogger } from "@aws-runas/wire/log.js";
import {
  type DecodedMessage,
  decodeFlag,
  encodeHandshakeComplete,
  encodeHandshakeRequest,
  FlagValue,
  MessageType,
  PayloadType,
} from "@aws-runas/wire/protocol/index.js";
import { DataChannel } from "../../packages/aws-runas/src/datachannel/index.js";
import type { StopReason } from "../../packages/aws-runas/src/session/ending.js";
import { listenLocal, runPortSession } from "../../packages/aws-runas/src/session/port.js";
import { ScriptedPeer } from "../datachannel/scripted-peer.js";
import { collectUntilClosed, connectLocal } from "../e2e/helpers/forward.js";

interface Agent {
  peer: ScriptedPeer;
  port: number;
  /** Sends one Output message (the next agent seq); returns its seq. */
  output(data: Buffer | string): number;
  /** The client's Output with exactly this payload. */
  input(text: string): Promise<DecodedMessage>;
  disconnect(): Promise<DecodedMessage>;
  /** Resolves once the client has acknowledged (so handled) agent message `seq`. */
  handled(seq: number): Promise<void>;
  sockets: Socket[];
  /** The forward's debug log. */
  log: string[];
}

/** A forward in basic mode: the scripted agent reports 3.0.196.0 and LocalPortForwarding. */
async function basicForward(t: { after: (fn: () => unknown) => void }): Promise<Agent> {
  const log: string[] = [];
  const peer = await ScriptedPeer.start();
  const opened = peer.waitForOpen();
  const channel = await DataChannel.open({
    streamUrl: peer.url,
    tokenValue: "token-1",
    sessionId: "s-1",
    targetId: "i-0123456789abcdef0",
  });
  await opened;
  peer.sendOutput(
    0,
    PayloadType.handshakeRequest,
    encodeHandshakeRequest({
      AgentVersion: "3.0.196.0",
      RequestedClientActions: [
        {
          ActionType: "SessionType",
          ActionParameters: {
            SessionType: "Port",
            Properties: { portNumber: "9", type: "LocalPortForwarding", localPortNumber: "0" },
          },
        },
      ],
    }),
  );
  await peer.nextInput(0);
  peer.sendOutput(
    1,
    PayloadType.handshakeComplete,
    encodeHandshakeComplete({ HandshakeTimeToComplete: 1, CustomerMessage: "" }),
  );
  const server: Server = await listenLocal(0);
  let stop!: () => void;
  const session = runPortSession({
    channel,
    server,
    logger: createLogger(1, (line) => log.push(line)),
    stop: new Promise<StopReason>((resolve) => {
      stop = () => resolve({ kind: "signal", signal: "SIGINT" });
    }),
  });
  await channel.whenReady();
  const sockets: Socket[] = [];
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    stop();
    await session;
    channel.destroy();
    server.close();
    await peer.close();
  });
  let seq = 2;
  const isInput = (m: DecodedMessage) => m.messageType === MessageType.inputStreamData;
  return {
    peer,
    port: (server.address() as { port: number }).port,
    sockets,
    log,
    output: (data) => {
      const n = seq++;
      peer.sendOutput(n, PayloadType.output, data);
      return n;
    },
    input: (text) =>
      peer.next((m) => isInput(m) && m.payloadType === PayloadType.output && m.payload.toString() === text),
    disconnect: () =>
      peer.next(
        (m) =>
          isInput(m) &&
          m.payloadType === PayloadType.flag &&
          decodeFlag(m.payload) === FlagValue.disconnectToPort,
      ),
    handled: async (n) => {
      await peer.nextAckOf(n);
    },
  };
}

async function open(agent: Agent, seeResets = true): Promise<Socket> {
  const socket = await connectLocal(agent.port, { seeResets });
  agent.sockets.push(socket);
  return socket;
}

/** Resolves once `socket` has received `size` bytes in all (counted from now). */
function received(socket: Socket, size: number): Promise<void> {
  return new Promise((resolve) => {
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length < size) return;
      socket.off("data", onData);
      resolve();
    };
    socket.on("data", onData);
  });
}

describe("basic mode: which connection an Output belongs to", () => {
  test("output in flight before the ack of DisconnectToPort is the old connection's; the next one waits for the ack", async (t) => {
    const agent = await basicForward(t);
    const a = await open(agent);
    const aEnd = collectUntilClosed(a);
    a.write("a-request");
    await agent.input("a-request");
    const replied = received(a, "a-reply;".length);
    agent.output("a-reply;");
    await replied;

    agent.peer.autoAck = false; // the agent has not handled the DisconnectToPort yet
    a.end();
    const disconnect = await agent.disconnect();
    const b = await open(agent);
    const bEnd = collectUntilClosed(b);
    b.write("b-request");
    // The agent's output from before it handled the flag: still on its way when B is waiting.
    await agent.handled(agent.output("a-late;"));
    assert.ok(
      !agent.peer.received.some((m) => m.payload.toString() === "b-request"),
      "the next connection sent nothing before the DisconnectToPort was acknowledged",
    );

    agent.peer.ack(disconnect);
    const request = await agent.input("b-request");
    agent.peer.ack(request);
    agent.peer.autoAck = true;
    const bReplied = received(b, "b-reply".length);
    agent.output("b-reply");
    await bReplied;
    b.end();
    const [aDone, bDone] = [await aEnd, await bEnd];
    assert.equal(aDone.data.toString(), "a-reply;a-late;", "the old connection got its in-flight output");
    assert.ok(aDone.reset, "and was then reset, not ended with a FIN");
    assert.equal(bDone.data.toString(), "b-reply", "nothing of the old connection reached the next one");
  });

  test("output after the ack but before the next connection's first byte is dropped", async (t) => {
    const agent = await basicForward(t);
    const a = await open(agent);
    const aEnd = collectUntilClosed(a);
    a.write("x");
    await agent.input("x");
    a.end();
    await agent.disconnect(); // acked at once (autoAck)
    assert.ok((await aEnd).reset);
    // A last read of the old destination connection, sent after the ack: nobody's.
    await agent.handled(agent.output("stale"));
    const b = await open(agent);
    const bEnd = collectUntilClosed(b);
    b.write("b");
    await agent.input("b");
    const bReplied = received(b, "b-reply".length);
    agent.output("b-reply");
    await bReplied;
    b.end();
    assert.equal((await bEnd).data.toString(), "b-reply");
  });

  test("output the old connection could not take yet (back-pressure) never reaches the next one", async (t) => {
    const agent = await basicForward(t);
    // A client that does not read: the forward's writes to it back up, the channel is paused and
    // the agent's output waits in the channel's read buffer when the ack arrives.
    const a = await open(agent, false);
    a.pause();
    a.write("go");
    await agent.input("go");
    const size = 8 * 1024 * 1024;
    for (let sent = 0; sent < size; sent += 1024) agent.output(Buffer.alloc(1024, 0x61));
    a.end();
    agent.peer.autoAck = false;
    const disconnect = await agent.disconnect();
    agent.output("tail!");
    agent.peer.ack(disconnect);
    const b = await open(agent);
    const bEnd = collectUntilClosed(b);
    b.write("b");
    const aEnd = collectUntilClosed(a);
    a.resume(); // reads again
    const request = await agent.input("b");
    agent.peer.ack(request);
    agent.peer.autoAck = true;
    const bReplied = received(b, "b-reply".length);
    agent.output("b-reply");
    await bReplied;
    b.end();
    const aData = (await aEnd).data;
    // The reset that ends it may discard what the kernel had not sent yet: a prefix, but only its own.
    const expected = Buffer.concat([Buffer.alloc(size, 0x61), Buffer.from("tail!")]);
    assert.ok(aData.length > 0);
    assert.ok(
      expected.subarray(0, aData.length).equals(aData),
      "the old connection got only its own bytes, in order",
    );
    assert.equal(
      (await bEnd).data.toString(),
      "b-reply",
      "nothing of the old connection reached the next one",
    );
    // B's end was acknowledged too: had any of A's output been taken for nobody's, it is logged by now.
    assert.deepEqual(
      agent.log.filter((line) => line.includes("dropped")),
      [],
      "all of the old connection's output was written to it",
    );
  });

  test("what the destination says before the first connection waits for it", async (t) => {
    const agent = await basicForward(t);
    await agent.handled(agent.output("greeting\n"));
    const a = await open(agent);
    const aEnd = collectUntilClosed(a);
    await received(a, "greeting\n".length);
    a.end();
    assert.equal((await aEnd).data.toString(), "greeting\n");
  });
});
