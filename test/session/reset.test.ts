/**
 * `reset` (session/reset.ts) in every state a local connection can be in when a session ends
 * under it: the socket must always close (its "close" event proves the handle was released;
 * Node's own resetAndDestroy() leaks it while a shutdown is pending, which then hangs the
 * process at exit), and the peer sees RST unless our side had already sent its FIN.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Socket } from "node:net";
import { test } from "node:test";
import { reset } from "../../packages/aws-runas/src/session/reset.js";

type PeerSees = "reset" | "fin";

interface Pair {
  ours: Socket;
  peer: Socket;
  /** How the peer saw the connection end. */
  peerSaw: Promise<PeerSees>;
  close(): void;
}

async function connectedPair(): Promise<Pair> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  const [[ours], peer] = await Promise.all([
    once(server, "connection") as Promise<[Socket]>,
    (async () => {
      const { connect } = await import("node:net");
      const socket = connect(port, "127.0.0.1");
      await once(socket, "connect");
      return socket;
    })(),
  ]);
  const peerSaw = new Promise<PeerSees>((resolve) => {
    let sawFin = false;
    peer.on("end", () => {
      sawFin = true;
    });
    peer.on("error", (error: NodeJS.ErrnoException) =>
      resolve(error.code === "ECONNRESET" ? "reset" : "fin"),
    );
    peer.on("close", () => resolve(sawFin ? "fin" : "reset"));
    peer.resume();
  });
  return {
    ours,
    peer,
    peerSaw,
    close: () => {
      peer.destroy();
      server.close();
    },
  };
}

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

/** Rejects when `socket` never closes: its handle leaked. Bounded so a leak fails, not hangs. */
function closed(socket: Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no close event: the socket's handle leaked")), 5000);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const cases: ReadonlyArray<{
  name: string;
  /** Brings our socket into the state under test. */
  prepare(pair: Pair): Promise<void>;
  /** What the peer must see; undefined when either is right (RST after FIN). */
  peerSees?: PeerSees;
}> = [
  { name: "an open connection", prepare: async () => {}, peerSees: "reset" },
  {
    name: "an open connection with unread data queued",
    prepare: async ({ ours, peer }) => {
      peer.pause();
      ours.write(Buffer.alloc(8 * 1024 * 1024));
      await nextTick();
    },
    // The peer's window is full: its kernel may ignore an RST whose sequence number is beyond
    // what it has taken in (RFC 5961), so what it sees is not ours to assert.
  },
  {
    name: "end() in the same tick",
    prepare: async ({ ours }) => {
      ours.end();
    },
    peerSees: "fin",
  },
  {
    name: "end() with its shutdown still pending",
    prepare: async ({ ours }) => {
      ours.end();
      // _final has asked libuv for the shutdown; it completes in the next poll phase.
      await nextTick();
      await nextTick();
      assert.ok(ours.writableEnded && !ours.writableFinished, "the shutdown is pending");
    },
    peerSees: "fin",
  },
  {
    name: "end() with unread data queued",
    prepare: async ({ ours, peer }) => {
      peer.pause();
      ours.end(Buffer.alloc(8 * 1024 * 1024));
      await nextTick();
      await nextTick();
    },
  },
  {
    name: "end() finished (FIN sent)",
    prepare: async ({ ours }) => {
      ours.end();
      await once(ours, "finish");
    },
  },
  {
    name: "the peer half-closed (our side ends in reply)",
    prepare: async ({ ours, peer }) => {
      ours.resume();
      peer.end();
      await once(ours, "end");
    },
  },
  {
    name: "already destroyed",
    prepare: async ({ ours }) => {
      ours.destroy();
    },
  },
];

for (const c of cases) {
  test(`reset closes the socket: ${c.name}`, { timeout: 20_000 }, async () => {
    const pair = await connectedPair();
    const errors: string[] = [];
    pair.ours.on("error", (error: NodeJS.ErrnoException) => errors.push(`${error.code} ${error.syscall}`));
    try {
      await c.prepare(pair);
      reset(pair.ours);
      pair.peer.resume(); // reads what was queued, then the end
      await closed(pair.ours);
      assert.deepEqual(
        errors.filter((e) => e.endsWith("reset")),
        [],
        "the reset itself must not fail",
      );
      const saw = await pair.peerSaw;
      if (c.peerSees) assert.equal(saw, c.peerSees);
    } finally {
      pair.close();
    }
  });
}
