/**
 * Issue #17 acceptance: `ssm socks` with real clients (curl) and a minimal SOCKS5 client for the
 * exact reply codes, built CLI against the built emulator. Destinations are fixture remote hosts
 * (`db.internal`, and any `*.test.internal` name), all served on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { Reply } from "../../packages/aws-runas/src/socks/codec.js";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import {
  collectUntilClosed,
  echoRoundTrip,
  freePort,
  requestLog,
  sessionInfo,
  startEchoServer,
  type TestServer,
} from "./helpers/forward.js";
import { type EmulatorProcess, runCli, startEmulatorProcess } from "./helpers/harness.js";
import {
  type RecordingHttpServer,
  type Socks,
  socksConnect,
  startHttpServer,
  startSocks,
} from "./helpers/socks.js";

const run = promisify(execFile);
const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("ssm socks (built CLI against the built emulator, curl as client)", () => {
  let emulator: EmulatorProcess;
  let http: RecordingHttpServer;
  let echo: TestServer;
  let proxy: Socks;
  let workDir: string;
  const blobs = new Map<string, Buffer>();
  const extra: Socks[] = [];
  const sockets: Socket[] = [];

  const blob = (name: string, size: number) => {
    let data = blobs.get(name);
    if (!data) {
      data = randomBytes(size);
      blobs.set(name, data);
    }
    return data;
  };
  const starts = async () =>
    (await requestLog(emulator)).filter((e) => e.operation === "StartSession" && e.status === 200).length;
  const connect = async (
    port: number,
    host: string,
    destPort: number,
    type: "domain" | "ipv4" | "ipv6" = "domain",
  ) => {
    const c = await socksConnect(port, { type, host, port: destPort });
    sockets.push(c.socket);
    return c;
  };

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), "runas-socks-"));
    emulator = await startEmulatorProcess();
    http = await startHttpServer((req) => {
      const name = /^\/blob\/([\w.-]+)$/.exec(req.url ?? "")?.[1];
      const data = name ? blobs.get(name) : undefined;
      return data ? { body: data } : { status: 404, body: "not found" };
    });
    echo = await startEchoServer();
    proxy = await startSocks(emulator.env, ["plain", INSTANCE.web]);
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([proxy, ...extra].map((p) => p?.stop("SIGKILL")));
    await Promise.all([emulator?.close(), http?.close(), echo?.close()]);
    await rm(workDir, { recursive: true, force: true });
  });

  test("curl --socks5-hostname fetches a file from db.internal intact; the name went to the instance side", async () => {
    const data = blob("first.bin", 3 * MiB + 17);
    const before = await starts();
    const { stdout } = await run(
      "curl",
      [
        "-sS",
        "--fail",
        "--max-time",
        "60",
        "--socks5-hostname",
        `127.0.0.1:${proxy.ready.port}`,
        `http://db.internal:${http.port}/blob/first.bin`,
      ],
      { encoding: "buffer", maxBuffer: 16 * MiB },
    );
    assert.equal(sha256(stdout), sha256(data));
    assert.equal(http.requests.at(-1)?.host, `db.internal:${http.port}`);
    assert.equal((await starts()) - before, 1);
    const sessions = (await emulator.admin("/_emulator/sessions")) as Array<{
      documentName: string;
      parameters: Record<string, string[]>;
    }>;
    const remote = sessions.filter((s) => s.documentName === "AWS-StartPortForwardingSessionToRemoteHost");
    assert.ok(
      remote.some(
        (s) =>
          [s.parameters.host].flat()[0] === "db.internal" &&
          [s.parameters.portNumber].flat()[0] === String(http.port),
      ),
      "a remote-host session with host=db.internal",
    );
  });

  test("100 concurrent curl downloads across 5 destinations, 1 MiB each, sha256 intact; one StartSession per destination", async () => {
    const before = await starts();
    const args = [
      "-sS",
      "--fail",
      "--max-time",
      "120",
      "-Z",
      "--parallel-max",
      "100",
      "--parallel-immediate",
    ];
    args.push("--socks5-hostname", `127.0.0.1:${proxy.ready.port}`);
    const expected: Array<[string, string]> = [];
    for (let i = 0; i < 100; i++) {
      const name = `p${i}.bin`;
      const data = blob(name, MiB);
      const out = join(workDir, name);
      args.push("-o", out, `http://dest${i % 5}.test.internal:${http.port}/blob/${name}`);
      expected.push([out, sha256(data)]);
    }
    const served = http.requests.length;
    await run("curl", args, { maxBuffer: MiB });
    for (const [out, digest] of expected) assert.equal(sha256(await readFile(out)), digest, out);
    assert.equal(http.requests.length - served, 100);
    const hosts = new Set(http.requests.slice(served).map((r) => r.host));
    assert.equal(hosts.size, 5);
    assert.equal((await starts()) - before, 5, "one StartSession per destination, however many connections");
  });

  test("100 concurrent echo connections across 5 destinations, 1 MiB each way; later connections reuse the sessions", async () => {
    const before = await starts();
    const conns = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        connect(proxy.ready.port, `dest${i % 5}.test.internal`, echo.port),
      ),
    );
    assert.deepEqual(new Set(conns.map((c) => c.reply)), new Set([Reply.succeeded]));
    const results = await Promise.all(conns.map((c) => echoRoundTrip(c.socket, MiB, 120_000)));
    for (const [i, r] of results.entries()) assert.equal(r.received, r.sent, `connection ${i}`);
    for (const c of conns) c.socket.end();
    assert.equal((await starts()) - before, 5);
    const again = await starts();
    for (let i = 0; i < 3; i++) {
      const c = await connect(proxy.ready.port, "dest0.test.internal", echo.port);
      assert.equal(c.reply, Reply.succeeded);
      const r = await echoRoundTrip(c.socket, 1000);
      assert.equal(r.received, r.sent);
      c.socket.end();
    }
    assert.equal(await starts(), again, "repeated connections to one destination reuse its session");
  });

  test("refused, unresolvable and forbidden destinations get their reply codes; the proxy keeps serving", async () => {
    const closed = await freePort();
    const refused = await connect(proxy.ready.port, "db.internal", closed);
    assert.equal(refused.reply, Reply.connectionRefused);
    const refusedIp = await connect(proxy.ready.port, "127.0.0.1", closed, "ipv4");
    assert.equal(refusedIp.reply, Reply.connectionRefused);
    // The agent reports an unresolvable name with the same flag as a refusal (no reason given).
    const unknown = await connect(proxy.ready.port, "nowhere.example", 80);
    assert.equal(unknown.reply, Reply.connectionRefused);
    const imds = await connect(proxy.ready.port, "169.254.169.254", 80, "ipv4");
    assert.equal(imds.reply, Reply.notAllowed);
    // A second try on the refused destination's pooled session gets the same answer.
    assert.equal((await connect(proxy.ready.port, "db.internal", closed)).reply, Reply.connectionRefused);

    const data = blob("after.bin", 100_000);
    const { stdout } = await run(
      "curl",
      [
        "-sS",
        "--fail",
        "--max-time",
        "30",
        "--socks5-hostname",
        `127.0.0.1:${proxy.ready.port}`,
        `http://cache.internal:${http.port}/blob/after.bin`,
      ],
      { encoding: "buffer" },
    );
    assert.equal(sha256(stdout), sha256(data));
    assert.equal(proxy.child.exitCode, null);
    // curl shows the same code to its user.
    const failed = await runCurlFailure(proxy.ready.port, `http://db.internal:${closed}/`);
    assert.match(failed, /\(5\)/);
  });

  test("IPv6 destinations (ATYP 4) reach the instance side too", async () => {
    const c = await connect(proxy.ready.port, "::1", echo.port, "ipv6");
    assert.equal(c.reply, Reply.succeeded);
    const r = await echoRoundTrip(c.socket, 64 * 1024);
    assert.equal(r.received, r.sent);
    c.socket.end();
  });

  test("--address ::1: the proxy listens on IPv6 loopback (no warning) and serves", async () => {
    const v6 = await startSocks(emulator.env, ["--address", "::1", "plain", INSTANCE.web]);
    extra.push(v6);
    assert.equal(v6.ready.host, "::1");
    const c = await socksConnect(
      v6.ready.port,
      { type: "domain", host: "db.internal", port: echo.port },
      15_000,
      "::1",
    );
    sockets.push(c.socket);
    assert.equal(c.reply, Reply.succeeded);
    assert.equal((await echoRoundTrip(c.socket, 1000)).bytes, 1000);
    c.socket.end();
    assert.doesNotMatch(v6.stderr(), /warning/);
    assert.deepEqual(await v6.stop("SIGINT"), { code: 0, signal: null });
  });

  test("--allow limits destinations (reply 2, no session); --max-sessions caps them (reply 1 until one is idle)", async () => {
    const limited = await startSocks(emulator.env, [
      "--allow",
      "*.test.internal",
      "--allow",
      "db.internal:1-1024",
      "--max-sessions",
      "1",
      "plain",
      INSTANCE.web,
    ]);
    extra.push(limited);
    const before = await starts();
    assert.equal((await connect(limited.ready.port, "cache.internal", echo.port)).reply, Reply.notAllowed);
    assert.equal((await connect(limited.ready.port, "db.internal", echo.port)).reply, Reply.notAllowed);
    assert.equal(await starts(), before, "a refused destination starts no session");

    const held = await connect(limited.ready.port, "a.test.internal", echo.port);
    assert.equal(held.reply, Reply.succeeded);
    assert.equal((await echoRoundTrip(held.socket, 100)).bytes, 100);
    assert.equal(
      (await connect(limited.ready.port, "b.test.internal", echo.port)).reply,
      Reply.generalFailure,
    );
    held.socket.end();
    await once(held.socket.resume(), "close");
    // a.test.internal goes idle once the proxy has seen its stream close (just after the client
    // saw its side close): then it makes room for b.
    let next = await connect(limited.ready.port, "b.test.internal", echo.port);
    for (let i = 0; i < 50 && next.reply === Reply.generalFailure; i++) {
      await new Promise((r) => setTimeout(r, 100));
      next = await connect(limited.ready.port, "b.test.internal", echo.port);
    }
    assert.equal(next.reply, Reply.succeeded);
    assert.equal((await echoRoundTrip(next.socket, 100)).bytes, 100);
    next.socket.end();
    assert.match(limited.stderr(), /not allowed by --allow/);
    assert.deepEqual(await limited.stop("SIGTERM"), { code: 0, signal: null });
  });

  test("an agent too old for mux (basic mode only): reply 1 and one clear line per connection", async () => {
    const legacy = await startSocks(emulator.env, ["plain", INSTANCE.legacy]);
    extra.push(legacy);
    const c = await connect(legacy.ready.port, "db.internal", echo.port);
    assert.equal(c.reply, Reply.generalFailure);
    assert.match(
      legacy.stderr(),
      /^socks: db\.internal:\d+: general failure \(.*needs an agent newer than 3\.0\.196\.0\)$/m,
    );
    assert.deepEqual(await legacy.stop("SIGINT"), { code: 0, signal: null });
  });

  test("an idle destination session ends after --idle-timeout; the next connection starts a new one", async () => {
    const idle = await startSocks(emulator.env, ["--idle-timeout", "1s", "plain", INSTANCE.web]);
    extra.push(idle);
    const first = await connect(idle.ready.port, "db.internal", echo.port);
    assert.equal((await echoRoundTrip(first.socket, 100)).bytes, 100);
    first.socket.end();
    await once(first.socket.resume(), "close");
    const before = await starts();
    const terminated = async () =>
      (
        (await emulator.admin("/_emulator/sessions")) as Array<{
          state: string;
          parameters: Record<string, string[]>;
        }>
      )
        .filter(
          (s) =>
            [s.parameters.host].flat()[0] === "db.internal" &&
            [s.parameters.portNumber].flat()[0] === String(echo.port),
        )
        .every((s) => s.state === "Terminated");
    for (let i = 0; i < 100 && !(await terminated()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(await terminated(), "the idle session was terminated");
    const second = await connect(idle.ready.port, "db.internal", echo.port);
    assert.equal((await echoRoundTrip(second.socket, 100)).bytes, 100);
    second.socket.end();
    assert.equal((await starts()) - before, 1);
    assert.deepEqual(await idle.stop("SIGINT"), { code: 0, signal: null });
  });

  test("SIGINT terminates every destination session and exits 0; stdout stays empty", async () => {
    const open = await connect(proxy.ready.port, "db.internal", echo.port);
    assert.equal((await echoRoundTrip(open.socket, 100)).bytes, 100);
    const closed = collectUntilClosed(open.socket);
    const live = (await emulator.admin("/_emulator/sessions")) as Array<{ sessionId: string; state: string }>;
    const terminatesBefore = (await requestLog(emulator)).filter(
      (e) => e.operation === "TerminateSession",
    ).length;
    const exit = await proxy.stop("SIGINT");
    assert.deepEqual(exit, { code: 0, signal: null }, proxy.stderr());
    assert.equal(proxy.stdout(), "");
    assert.ok((await closed).reset, "a connection still open is reset, not ended as if complete");
    assert.match(proxy.stderr(), /^Stopped the SOCKS5 proxy; \d+ session\(s\) terminated\.$/m);
    const after = (await emulator.admin("/_emulator/sessions")) as Array<{
      sessionId: string;
      state: string;
    }>;
    const stillActive = after.filter(
      (s) => s.state !== "Terminated" && live.some((l) => l.sessionId === s.sessionId),
    );
    assert.deepEqual(stillActive, [], "no session of the proxy is left");
    assert.ok(
      (await requestLog(emulator)).filter((e) => e.operation === "TerminateSession").length >
        terminatesBefore,
    );
    for (const s of live) assert.notEqual((await sessionInfo(emulator, s.sessionId))?.state, "Connected");
  });

  test("bad flags: one line and a hint, exit 2", async () => {
    for (const [args, message] of [
      [["--allow", "db:0", INSTANCE.web], /invalid --allow "db:0"/],
      [["--idle-timeout", "soon", INSTANCE.web], /invalid --idle-timeout "soon"/],
      [["--max-sessions", "0", INSTANCE.web], /invalid --max-sessions "0"/],
      [["--address", "example.com", INSTANCE.web], /invalid --address "example.com"/],
      [[], /missing target_spec/],
    ] as const) {
      const r = await runCli(["ssm", "socks", ...args], { env: emulator.env });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, new RegExp(`^aws-runas: ${message.source}.*\\nhint: \\S.*\\n$`));
    }
  });
});

async function runCurlFailure(proxyPort: number, url: string): Promise<string> {
  try {
    await run("curl", ["-sS", "--max-time", "20", "--socks5-hostname", `127.0.0.1:${proxyPort}`, url]);
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? "");
  }
  throw new Error("curl succeeded through a refused destination");
}
