import assert from "node:assert/strict";
import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  type BenchService,
  concurrent,
  download,
  echoRoundTrips,
  StallError,
  startBannerServer,
  startBenchService,
  tcp,
  upload,
  Watchdog,
} from "../../bench/lib/service.js";

const MiB = 1024 * 1024;

/** A server that accepts and then never reads nor writes: every transfer through it stalls. */
async function deafServer(t: { after(fn: () => unknown): void }): Promise<number> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    s.pause();
    sockets.push(s);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

/**
 * A relay in front of `port` that passes at most 16 KiB each way per 20 ms (test pacing, not a
 * data path): a path too slow for a 64 MiB transfer to finish quickly.
 */
async function throttledRelay(
  t: { after(fn: () => unknown): void },
  port: number,
): Promise<{ port: number; relayed(): number }> {
  const sockets: Socket[] = [];
  let relayed = 0;
  const pump = (from: Socket, to: Socket, count: boolean) => {
    from.pause();
    const timer = setInterval(() => {
      const chunk = from.read(16 * 1024) ?? from.read();
      if (chunk) {
        if (count) relayed += chunk.length;
        to.write(chunk);
      }
    }, 20);
    from.on("close", () => clearInterval(timer));
    to.on("close", () => clearInterval(timer));
  };
  const server = createServer((client) => {
    const upstream = connect({ port, host: "127.0.0.1" });
    sockets.push(client, upstream);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    pump(client, upstream, false);
    pump(upstream, client, true);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, relayed: () => relayed };
}

describe("bench service and drivers (127.0.0.1)", () => {
  let service: BenchService;
  before(async () => {
    service = await startBenchService();
  });
  after(() => service.close());

  test("upload and download move the asked number of bytes and report seconds", async () => {
    const before = service.bytesIn();
    const up = await upload(tcp(service.port), 3 * MiB + 17);
    assert.equal(service.bytesIn() - before, 3 * MiB + 17);
    const down = await download(tcp(service.port), 2 * MiB + 5);
    assert.deepEqual(
      [up.bytes, up.complete, down.bytes, down.complete],
      [3 * MiB + 17, true, 2 * MiB + 5, true],
    );
    assert.ok(up.seconds > 0 && up.seconds < 30, `upload took ${up.seconds} s`);
    assert.ok(down.seconds > 0 && down.seconds < 30, `download took ${down.seconds} s`);
  });

  test("a time-boxed transfer on a slow path reports the bytes that arrived in the box", async (t) => {
    const slow = await throttledRelay(t, service.port);
    for (const direction of ["upload", "download"] as const) {
      const before = service.bytesIn();
      const one = direction === "upload" ? upload : download;
      const transfer = await one(tcp(slow.port), 64 * MiB, {
        timeBoxMs: 400,
        receivedBy: service.receivedBy,
      });
      assert.equal(transfer.complete, false, direction);
      assert.ok(transfer.bytes > 0 && transfer.bytes < 64 * MiB, `${direction}: ${transfer.bytes} bytes`);
      assert.ok(transfer.seconds >= 0.35, `${direction}: ${transfer.seconds} s`);
      // An upload counts what reached the service, not what the relay still holds.
      if (direction === "upload") assert.ok(transfer.bytes <= service.bytesIn() - before);
      else assert.ok(transfer.bytes <= slow.relayed());
    }
    const all = await concurrent(tcp(slow.port), "download", 4, 64 * MiB, { timeBoxMs: 400 });
    assert.equal(all.complete, false);
    assert.ok(all.bytes > 0 && all.bytes < 64 * MiB);
  });

  test("a time box that is not reached changes nothing", async () => {
    const up = await upload(tcp(service.port), MiB, { timeBoxMs: 20_000, receivedBy: service.receivedBy });
    assert.deepEqual([up.bytes, up.complete], [MiB, true]);
  });

  test("download counts every byte: a short answer is an error, not a figure", async (t) => {
    // A server that sends less than asked and closes.
    const server = createServer((s) => s.end(Buffer.alloc(10)));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    t.after(() => server.close());
    await assert.rejects(
      download(tcp((server.address() as AddressInfo).port), 100),
      /closed after 10 of 100 bytes/,
    );
  });

  test("concurrent transfers all finish", async () => {
    for (const direction of ["upload", "download"] as const) {
      const all = await concurrent(tcp(service.port), direction, 8, 4 * MiB);
      assert.ok(all.seconds > 0);
      assert.deepEqual([all.bytes, all.complete], [4 * MiB, true]);
    }
  });

  test("echo returns one time per round trip after the warm-up", async () => {
    const times = await echoRoundTrips(tcp(service.port), 50, { size: 64, warmup: 5 });
    assert.equal(times.length, 50);
    assert.ok(times.every((ms) => ms > 0 && ms < 5000));
  });

  test("a transfer without progress ends with StallError instead of hanging", async (t) => {
    const port = await deafServer(t);
    await assert.rejects(upload(tcp(port), 64 * MiB, { stallMs: 300 }), (error: Error) => {
      assert.ok(error instanceof StallError);
      assert.match(error.message, /no progress for 0 s; [\d.]+ MiB of 64\.0 MiB written/);
      return true;
    });
    await assert.rejects(download(tcp(port), 1024, { stallMs: 300 }), StallError);
    await assert.rejects(echoRoundTrips(tcp(port), 5, { stallMs: 300 }), /0 of 5 round trips done/);
    await assert.rejects(
      concurrent(tcp(port), "download", 4, 4096, { stallMs: 300 }),
      /0 of 4 connections finished/,
    );
  });

  test("a transfer that only trickles ends at its deadline", async () => {
    const dog = new Watchdog(10_000, () => "trickling", 300);
    const timer = setInterval(() => dog.progress++, 20);
    try {
      await assert.rejects(dog.stalled, /not done after 0 s; trickling/);
    } finally {
      clearInterval(timer);
      dog.stop();
    }
  });

  test("progress at the far end keeps the watchdog quiet too", async () => {
    let remote = 0;
    const timer = setInterval(() => remote++, 20);
    const dog = new Watchdog(
      150,
      () => "remote",
      10_000,
      () => remote,
    );
    try {
      await new Promise((r) => setTimeout(r, 400));
      const settled = await Promise.race([
        dog.stalled.then(
          () => "stalled",
          () => "stalled",
        ),
        Promise.resolve("quiet"),
      ]);
      assert.equal(settled, "quiet");
      clearInterval(timer);
      await assert.rejects(dog.stalled, /no progress/);
    } finally {
      clearInterval(timer);
      dog.stop();
    }
  });

  test("the watchdog stays quiet while progress is made", async () => {
    const dog = new Watchdog(200, () => "test");
    try {
      for (let i = 0; i < 8; i++) {
        dog.progress++;
        await new Promise((r) => setTimeout(r, 50));
      }
      const settled = await Promise.race([
        dog.stalled.then(
          () => "stalled",
          () => "stalled",
        ),
        Promise.resolve("quiet"),
      ]);
      assert.equal(settled, "quiet");
    } finally {
      dog.stop();
    }
  });

  test("the banner server greets every connection first, as sshd does", async (t) => {
    const banner = await startBannerServer("SSH-2.0-test\r\n");
    t.after(() => banner.close());
    const socket = await tcp(banner.port)();
    t.after(() => socket.destroy());
    const [data] = (await once(socket, "data")) as [Buffer];
    assert.equal(data.toString(), "SSH-2.0-test\r\n");
  });
});
