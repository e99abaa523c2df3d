// The end-of-input Ctrl-D repeat of piped shell sessions, driven by a manual clock. The e2e tests in
// test/e2e/shell-piped.test.ts show why it exists against a real pty; this one pins its timing.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { Duplex, PassThrough } from "node:stream";
import { test } from "node:test";
import { silentLogger } from "@aws-runas/wire/log.js";
import type { DataChannel } from "../../packages/aws-runas/src/datachannel/index.js";
import { runShellSession } from "../../packages/aws-runas/src/session/shell.js";
import { ManualClock } from "../helpers/manual-clock.js";

/** Just what runShellSession uses of a DataChannel: a duplex that records what is written. */
class FakeChannel extends Duplex {
  readonly written: string[] = [];
  readonly isReady = true;
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  sendSize(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.written.push(chunk.toString("latin1"));
    callback();
  }
  override _read(): void {}
}

const CTRL_D = "\x04";
const ticks = () => new Promise((resolve) => setImmediate(resolve));

/** A shell session on a fake channel and a manual clock, with piped (non-TTY) stdin. */
async function startSession() {
  const channel = new FakeChannel();
  const clock = new ManualClock();
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  stdout.resume();
  const session = runShellSession({
    channel: channel as unknown as DataChannel,
    io: { stdin, stdout, stderr: new PassThrough() },
    logger: silentLogger,
    signals: new EventEmitter(),
    clock,
  });
  await ticks();
  return { channel, clock, stdin, session };
}

test("after piped input ends: Ctrl-D, then again each time the session is quiet, with back-off", async () => {
  const { channel, clock, stdin, session } = await startSession();
  stdin.end("echo no-newline");
  await ticks();
  // The unfinished line is finished first, so the shell runs it before the Ctrl-D.
  assert.deepEqual(channel.written, ["echo no-newline", "\n", CTRL_D]);

  clock.advance(249);
  assert.equal(channel.written.length, 3, "nothing before 250 ms of quiet");
  clock.advance(1);
  assert.deepEqual(channel.written.slice(3), [CTRL_D]);

  // Output from the remote side restarts the wait (now 500 ms).
  clock.advance(400);
  channel.push("still busy\r\n");
  await ticks();
  clock.advance(499);
  assert.equal(channel.written.length, 4, "output postponed the repeat");
  clock.advance(1);
  assert.deepEqual(channel.written.slice(4), [CTRL_D]);

  // Doubling up to 4 s: 1 s, 2 s, 4 s, 4 s.
  for (const wait of [1000, 2000, 4000, 4000]) {
    const sent: number = channel.written.length;
    clock.advance(wait - 1);
    assert.equal(channel.written.length, sent, `not before ${wait} ms`);
    clock.advance(1);
    assert.equal(channel.written.length, sent + 1, `after ${wait} ms`);
  }

  // Once the session is over, nothing more is sent.
  channel.emit("channelClosed");
  channel.destroy();
  assert.deepEqual(await session, { kind: "closed", output: "" });
  const count = channel.written.length;
  clock.advance(60_000);
  assert.equal(channel.written.length, count);
});

test("input that is still open sends no Ctrl-D however long the session is quiet", async () => {
  const { channel, clock, stdin, session } = await startSession();
  stdin.write("sleep 600\n");
  await ticks();
  clock.advance(3_600_000);
  assert.deepEqual(channel.written, ["sleep 600\n"]);
  channel.emit("channelClosed");
  channel.destroy();
  assert.deepEqual(await session, { kind: "closed", output: "" });
});
