// The shared end of every session command (src/session/ending.ts, src/cli/run/session-end.ts):
// the stop watch over signals and a closed stdout, readiness that settles when the channel closes
// first (issue 14 item 2: a refused `ssm ssh` waited forever), and the exit code of each outcome.
// The e2e table (test/e2e/session-ends.test.ts) runs the same paths through real processes.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import type { RunasError } from "@aws-runas/wire/errors.js";
import { encodeChannelClosed, encodeMessage, MessageType } from "@aws-runas/wire/protocol/index.js";
import { exitCodeFor } from "../../packages/aws-runas/src/cli/run/session-end.js";
import { DataChannel } from "../../packages/aws-runas/src/datachannel/index.js";
import {
  channelEnded,
  type SessionOutcome,
  untilReady,
  watchStop,
} from "../../packages/aws-runas/src/session/ending.js";
import { ScriptedPeer } from "../datachannel/scripted-peer.js";

test("the stop watch: the first signal is the reason, a second one forces, dispose lets signals act", async () => {
  const source = new EventEmitter();
  const forced: string[] = [];
  const watch = watchStop({ signals: ["SIGTERM", "SIGHUP"], source, force: (s) => forced.push(s) });
  assert.equal(source.listenerCount("SIGINT"), 0, "SIGINT is not watched unless asked for");
  source.emit("SIGHUP");
  assert.deepEqual(await watch.stopped, { kind: "signal", signal: "SIGHUP" });
  assert.deepEqual(forced, []);
  source.emit("SIGTERM");
  assert.deepEqual(forced, ["SIGTERM"], "a second signal while ending gives up waiting");
  assert.deepEqual(watch.reason, { kind: "signal", signal: "SIGHUP" }, "the first reason stays");
  watch.dispose();
  assert.equal(source.listenerCount("SIGTERM") + source.listenerCount("SIGHUP"), 0);
});

test("the stop watch: a released signal is left to its new owner (a running shell's Ctrl-C)", async () => {
  const source = new EventEmitter();
  const watch = watchStop({ signals: ["SIGINT", "SIGTERM"], source, force: () => assert.fail("no force") });
  watch.release("SIGINT");
  assert.equal(source.listenerCount("SIGINT"), 0);
  source.emit("SIGTERM");
  assert.deepEqual(await watch.stopped, { kind: "signal", signal: "SIGTERM" });
  watch.dispose();
});

test("the stop watch: a stdout write error (EPIPE) is a quiet stop, and later errors never crash", async () => {
  const stdout = new PassThrough();
  const watch = watchStop({ signals: [], source: new EventEmitter(), stdout });
  stdout.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
  assert.deepEqual(await watch.stopped, { kind: "stdout-closed" });
  watch.dispose();
  // Without a listener this would throw (an uncaught 'error' event).
  stdout.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
});

async function openChannel(t: { after: (fn: () => unknown) => void }) {
  const peer = await ScriptedPeer.start();
  const opened = peer.waitForOpen();
  const channel = await DataChannel.open({
    streamUrl: peer.url,
    tokenValue: "token-1",
    sessionId: "s-1",
    targetId: "i-0123456789abcdef0",
  });
  await opened;
  t.after(async () => {
    channel.destroy();
    await peer.close();
  });
  return { peer, channel };
}

test("whenReady rejects when the channel closes before it was ready", async (t) => {
  const { channel } = await openChannel(t);
  const ready = channel.whenReady();
  channel.close();
  await assert.rejects(ready, (error: RunasError) => error.code === "CHANNEL_CLOSED");
  await assert.rejects(channel.whenReady(), "and so does a later call");
});

test("channel_closed before ready (a refused port) settles untilReady with the service's reason", async (t) => {
  const { peer, channel } = await openChannel(t);
  const waiting = untilReady(channel, channelEnded(channel));
  const output = "Unable to start port, dial tcp 127.0.0.1:2223: connect: connection refused";
  peer.sendRaw(
    encodeMessage({
      messageType: MessageType.channelClosed,
      schemaVersion: 1,
      createdDate: Date.now(),
      sequenceNumber: 0,
      flags: 0,
      messageId: randomUUID(),
      payloadType: 0,
      payload: encodeChannelClosed({
        MessageId: randomUUID(),
        CreatedDate: new Date().toISOString(),
        DestinationId: "i-0123456789abcdef0",
        SessionId: "s-1",
        MessageType: "channel_closed",
        SchemaVersion: 1,
        Output: output,
      }),
    }),
  );
  assert.deepEqual(await waiting, { kind: "closed", output });
});

test("exit codes of the outcomes, as the README's end-path table gives them", () => {
  const closed = (output = ""): SessionOutcome => ({ kind: "closed", output });
  const signal = (s: "SIGINT" | "SIGTERM" | "SIGHUP"): SessionOutcome => ({
    kind: "stopped",
    reason: { kind: "signal", signal: s },
  });
  const stdout: SessionOutcome = { kind: "stopped", reason: { kind: "stdout-closed" } };
  const stdin: SessionOutcome = { kind: "stopped", reason: { kind: "stdin-closed" } };
  for (const command of ["shell", "forward", "ssh"] as const) {
    assert.equal(exitCodeFor(command, closed(), "s-1"), 0, `${command}: a normal close`);
    assert.throws(
      () => exitCodeFor(command, closed("Unable to start port"), "s-1"),
      (e: RunasError) => e.exitCode === 1 && e.message === "session s-1 ended: Unable to start port",
    );
  }
  assert.equal(exitCodeFor("shell", stdout, "s-1"), 141);
  assert.equal(exitCodeFor("ssh", stdout, "s-1"), 141);
  assert.equal(exitCodeFor("ssh", stdin, "s-1"), 0);
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    let closing = 0;
    assert.equal(
      exitCodeFor("forward", signal(s), "s-1", () => closing++),
      0,
    );
    assert.equal(closing, 1, "a stopped forward prints its closing line");
  }
  assert.equal(exitCodeFor("ssh", signal("SIGHUP"), "s-1"), 0);
  assert.equal(exitCodeFor("ssh", signal("SIGINT"), "s-1"), 130);
  assert.equal(exitCodeFor("ssh", signal("SIGTERM"), "s-1"), 143);
  assert.throws(
    () => exitCodeFor("shell", signal("SIGTERM"), "s-1"),
    (e: RunasError) => e.exitCode === 143 && /received SIGTERM: session s-1 was terminated/.test(e.message),
  );
  assert.throws(
    () => exitCodeFor("shell", signal("SIGHUP"), "s-1"),
    (e: RunasError) => e.exitCode === 129,
  );
});
