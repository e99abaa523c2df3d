/**
 * The SOCKS session pool against destination sessions made of a real smux client/server pair
 * over a socket pair (the server side plays the agent: per stream it connects, or sends
 * ConnectToPortError and closes the stream). Timers are manual, so nothing here waits on time.
 */
import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import { createConnection, createServer, type Socket } from "node:net";
import { describe, type TestContext, test } from "node:test";
import { AwsError } from "@aws-runas/wire/errors.js";
import { silentLogger } from "@aws-runas/wire/log.js";
import { MuxSession, type MuxStream } from "../../packages/aws-runas/src/mux/index.js";
import { Reply } from "../../packages/aws-runas/src/socks/codec.js";
import type {
  Destination,
  DestinationSession,
  DestinationSessionEvents,
} from "../../packages/aws-runas/src/socks/destination.js";
import { type ConnectOutcome, SessionPool } from "../../packages/aws-runas/src/socks/pool.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { socketPair } from "../mux/helpers.js";

type Behaviour = "echo" | "refuse" | "greet";

/** A destination session whose "agent" is an smux server in this process. */
class FakeSession extends EventEmitter<DestinationSessionEvents> implements DestinationSession {
  readonly sessionId: string;
  readonly handshakeMs = 0;
  mux!: MuxSession;
  server!: MuxSession;
  ended = false;
  endReason = "";
  closed = 0;
  behaviour: Behaviour;

  constructor(id: string, behaviour: Behaviour) {
    super();
    this.sessionId = id;
    this.behaviour = behaviour;
  }

  async start(t: TestContext): Promise<this> {
    const [a, b] = await socketPair(t);
    this.mux = new MuxSession(a, { client: true, keepAlive: false });
    this.server = new MuxSession(b, { client: false, keepAlive: false });
    t.after(() => {
      this.mux.close();
      this.server.close();
    });
    this.server.on("stream", (stream: MuxStream) => {
      if (this.behaviour === "refuse") {
        // The agent's order: the flag, then the stream's FIN.
        this.emit("connectError");
        stream.end();
        stream.resume();
      } else if (this.behaviour === "greet") {
        stream.write("hello");
        stream.pipe(stream);
      } else {
        stream.pipe(stream);
      }
    });
    return this;
  }

  end(reason: string): void {
    this.ended = true;
    this.endReason = reason;
    this.mux.close();
    this.emit("end", reason);
  }

  async close(): Promise<void> {
    this.closed++;
    if (!this.ended) this.end("");
  }
}

async function client(t: TestContext): Promise<Socket> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const socket = createConnection({ port: (server.address() as { port: number }).port, host: "127.0.0.1" });
  const [peer] = await accepted;
  server.close();
  t.after(() => {
    socket.destroy();
    peer.destroy();
  });
  return peer.on("error", () => {}) && socket;
}

function setup(t: TestContext, behaviour: (d: Destination) => Behaviour, maxSessions = 8) {
  const clock = new ManualClock();
  const opened: FakeSession[] = [];
  let failNext: Error | undefined;
  const pool = new SessionPool({
    open: async (d) => {
      if (failNext) {
        const error = failNext;
        failNext = undefined;
        throw error;
      }
      const session = await new FakeSession(`s-${opened.length}`, behaviour(d)).start(t);
      opened.push(session);
      return session;
    },
    maxSessions,
    idleMs: 60_000,
    confirmMs: { min: 100, max: 1000 },
    logger: silentLogger,
    clock,
  });
  t.after(() => pool.closeAll());
  return { pool, clock, opened, failWith: (e: Error) => (failNext = e) };
}

const DB = { host: "db.internal", port: 5432 };

/** Resolves with the outcome, firing the connect window if the pool is waiting on it. */
async function connectFiringWindow(
  pool: SessionPool,
  clock: ManualClock,
  d: Destination,
): Promise<ConnectOutcome> {
  const pending = pool.connect(d);
  for (let i = 0; i < 50; i++) {
    const settled = await Promise.race([
      pending.then(() => true),
      new Promise<false>((r) => setImmediate(() => r(false))),
    ]);
    if (settled) break;
    clock.advance(100);
  }
  return pending;
}

describe("SOCKS session pool", () => {
  test("concurrent connections to one destination share one session start", async (t) => {
    const { pool, clock, opened } = setup(t, () => "echo");
    const outcomes = await Promise.all([1, 2, 3].map(() => connectFiringWindow(pool, clock, DB)));
    assert.deepEqual(
      outcomes.map((o) => o.ok),
      [true, true, true],
    );
    assert.equal(opened.length, 1);
    assert.equal(pool.size, 1);
  });

  test("Flag ConnectToPortError then FIN → reply 5; the session stays pooled", async (t) => {
    const { pool, opened } = setup(t, () => "refuse");
    for (let i = 0; i < 2; i++) {
      // No timer is fired: the flag and the FIN decide, the window never has to pass.
      const outcome = await pool.connect(DB);
      assert.deepEqual([outcome.ok, !outcome.ok && outcome.reply], [false, Reply.connectionRefused]);
    }
    assert.equal(opened.length, 1);
  });

  test("a destination that sent data is answered at once next time (no connect window)", async (t) => {
    const { pool, clock } = setup(t, () => "greet");
    const first = await pool.connect(DB); // "hello" arrives before any window
    assert.ok(first.ok);
    assert.equal(clock.live(100), 0, "the window was cancelled by the first byte");
    const socket = await client(t);
    first.attach(socket);
    socket.resume();
    const before = clock.scheduled;
    const second = await pool.connect(DB);
    assert.ok(second.ok);
    assert.equal(clock.scheduled, before, "no window timer for a known-good destination");
  });

  test("a failed start is reported with its reply and not pooled: the next connection starts again", async (t) => {
    const { pool, clock, opened, failWith } = setup(t, () => "echo");
    failWith(new AwsError("AccessDeniedException", "no"));
    const denied = await pool.connect(DB);
    assert.deepEqual([denied.ok, !denied.ok && denied.reply], [false, Reply.notAllowed]);
    assert.equal(pool.size, 0);
    assert.ok((await connectFiringWindow(pool, clock, DB)).ok);
    assert.equal(opened.length, 1);
  });

  test("a session the agent ends while a stream waits: the reason picks the reply", async (t) => {
    const { pool, opened } = setup(t, () => "echo");
    const pending = pool.connect(DB);
    while (opened.length === 0) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    opened[0]!.end("Forwarding to IP address 169.254.169.254 is forbidden.");
    const outcome = await pending;
    assert.deepEqual([outcome.ok, !outcome.ok && outcome.reply], [false, Reply.notAllowed]);
    assert.equal(pool.size, 0, "an ended session leaves the pool");
  });

  test("a pooled session that ended unnoticed is replaced for the next connection", async (t) => {
    const { pool, clock, opened } = setup(t, () => "echo");
    assert.ok((await connectFiringWindow(pool, clock, DB)).ok);
    opened[0]!.mux.close(); // gone, before its end was reported
    const outcome = await connectFiringWindow(pool, clock, DB);
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(opened.length, 2);
  });

  test("idle sessions end after idleMs; a busy one does not", async (t) => {
    const { pool, clock, opened } = setup(t, () => "echo");
    const outcome = await connectFiringWindow(pool, clock, DB);
    assert.ok(outcome.ok);
    assert.equal(clock.live(60_000), 0, "no idle timer while a connection is open");
    const socket = await client(t);
    outcome.attach(socket);
    socket.destroy();
    while (clock.live(60_000) === 0) await new Promise((r) => setImmediate(r));
    assert.equal(clock.live(60_000), 1);
    clock.advance(60_000);
    await new Promise((r) => setImmediate(r));
    assert.equal(opened[0]!.closed, 1, "the idle session was closed");
    assert.equal(pool.size, 0);
  });

  test("a client that went away before its reply releases the stream (the session can idle)", async (t) => {
    const { pool, clock } = setup(t, () => "echo");
    const outcome = await connectFiringWindow(pool, clock, DB);
    assert.ok(outcome.ok);
    const socket = await client(t);
    socket.destroy();
    await once(socket, "close");
    outcome.attach(socket);
    while (clock.live(60_000) === 0) await new Promise((r) => setImmediate(r));
    assert.equal(clock.live(60_000), 1, "idle timer armed: no stream is left open");
  });

  test("the session cap: a busy pool answers reply 1; an idle session makes room", async (t) => {
    const { pool, clock, opened } = setup(t, () => "echo", 1);
    const a = await connectFiringWindow(pool, clock, DB);
    assert.ok(a.ok);
    const full = await pool.connect({ host: "cache.internal", port: 6379 });
    assert.deepEqual([full.ok, !full.ok && full.reply], [false, Reply.generalFailure]);
    const socket = await client(t);
    a.attach(socket);
    socket.destroy();
    while (clock.live(60_000) === 0) await new Promise((r) => setImmediate(r));
    const b = await connectFiringWindow(pool, clock, { host: "cache.internal", port: 6379 });
    assert.ok(b.ok);
    assert.equal(opened.length, 2);
    assert.equal(opened[0]!.closed, 1, "the idle session gave up its place");
  });
});
