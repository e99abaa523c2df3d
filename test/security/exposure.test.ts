/**
 * Issue #11: nothing is reachable from the network. The forward's listener and the emulator's
 * API (TCP) and DNS (UDP) sockets are bound to 127.0.0.1 only (checked in `/proc/net`), and a
 * connect to the forward's port on each of this machine's other addresses is refused (skipped
 * when the machine has none). The emulator refuses requests without a valid SigV4 signature and
 * websocket opens with a wrong or replaced token — covered in depth in-process by
 * test/emulator/auth.test.ts and test/emulator/gateway.test.ts, checked here once more against
 * the built program.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { after, before, describe, test } from "node:test";
import { encodeOpenDataChannel } from "@aws-runas/wire/protocol/index.js";
import { ResumeSessionCommand, SSMClient, StartSessionCommand } from "@aws-sdk/client-ssm";
import WebSocket from "ws";
import { ALICE, INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { type EmulatorProcess, startEmulatorProcess } from "../e2e/helpers/harness.js";
import {
  assertNoChildProcesses,
  ensureBuilt,
  type RunningForward,
  startEchoServer,
  startForward,
  type TestServer,
} from "../reliability/helpers.js";

/** The machine's addresses other than loopback (link-local IPv6 needs a scope: left out). */
// The SDK's Node 20 support notice is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

function otherAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && !a.address.toLowerCase().startsWith("fe80:"))
    .map((a) => a!.address);
}

/** Local addresses bound to `port` in a `/proc/net` table, as dotted quads or IPv6 hex. */
function boundAddresses(table: "tcp" | "tcp6" | "udp" | "udp6", port: number, listenOnly: boolean): string[] {
  let text: string;
  try {
    text = readFileSync(`/proc/net/${table}`, "utf8");
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const [hexAddress = "", hexPort = ""] = (f[1] ?? "").split(":");
    if (Number.parseInt(hexPort, 16) !== port) continue;
    if (listenOnly && f[3] !== "0A") continue;
    if (hexAddress.length === 8) {
      // Little-endian IPv4.
      out.push([6, 4, 2, 0].map((i) => Number.parseInt(hexAddress.slice(i, i + 2), 16)).join("."));
    } else out.push(hexAddress);
  }
  return out;
}

function assertLoopbackOnly(
  what: string,
  port: number,
  tables: Array<"tcp" | "tcp6" | "udp" | "udp6">,
  listen: boolean,
) {
  const bound = tables.flatMap((t) => boundAddresses(t, port, listen));
  assert.ok(bound.length > 0, `${what} (port ${port}) is bound`);
  assert.deepEqual([...new Set(bound)], ["127.0.0.1"], `${what} (port ${port}) is bound to 127.0.0.1 only`);
}

function connectOutcome(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve("timeout");
    }, 5000);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code ?? error.message);
    });
  });
}

/** Every process these tests start is gone once the suites closed them. */
after(assertNoChildProcesses);

describe("listeners bind 127.0.0.1 only", () => {
  let emulator: EmulatorProcess;
  let echo: TestServer;
  let forward: RunningForward;
  before(async () => {
    ensureBuilt();
    emulator = await startEmulatorProcess();
    echo = await startEchoServer();
    forward = await startForward(emulator.env, "plain", `${INSTANCE.web}:${echo.port}`);
  });
  after(async () => {
    await forward?.stop();
    await echo?.close();
    await emulator?.close();
  });

  test("the forward, the emulator API and its DNS server are bound to 127.0.0.1", () => {
    assertLoopbackOnly("ssm forward listener", forward.port, ["tcp", "tcp6"], true);
    const api = Number(new URL(emulator.exports.AWS_ENDPOINT_URL!).port);
    assertLoopbackOnly("emulator API", api, ["tcp", "tcp6"], true);
    const dns = Number(emulator.exports.RUNAS_DNS_SERVERS!.split(":")[1]);
    assertLoopbackOnly("emulator DNS", dns, ["udp", "udp6"], false);
  });

  const addresses = otherAddresses();
  test(`a connect to the forward's port on the machine's other addresses is refused (${addresses.join(", ") || "none"})`, {
    skip: addresses.length === 0 ? "this machine has no address besides loopback" : false,
  }, async () => {
    assert.equal(await connectOutcome("127.0.0.1", forward.port), "connected", "reachable on loopback");
    for (const address of addresses) {
      assert.equal(await connectOutcome(address, forward.port), "ECONNREFUSED", `${address}:${forward.port}`);
    }
  });
});

describe("the built emulator refuses unauthenticated access", () => {
  let emulator: EmulatorProcess;
  let ssm: SSMClient;
  before(async () => {
    ensureBuilt();
    emulator = await startEmulatorProcess();
    ssm = new SSMClient({
      region: "us-east-1",
      endpoint: emulator.exports.AWS_ENDPOINT_URL,
      credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey },
    });
  });
  after(async () => {
    ssm?.destroy();
    await emulator?.close();
  });

  test("a request with a bad SigV4 signature or none is refused", async () => {
    const wrong = new SSMClient({
      region: "us-east-1",
      endpoint: emulator.exports.AWS_ENDPOINT_URL,
      credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: "not-alices-secret" },
      maxAttempts: 1,
    });
    try {
      await assert.rejects(wrong.send(new StartSessionCommand({ Target: INSTANCE.web })), (error: Error) => {
        assert.match(`${error.name}: ${error.message}`, /Signature/);
        return true;
      });
    } finally {
      wrong.destroy();
    }
    const unsigned = await fetch(emulator.exports.AWS_ENDPOINT_URL!, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AmazonSSM.StartSession" },
      body: JSON.stringify({ Target: INSTANCE.web }),
    });
    assert.equal(unsigned.status, 400);
    assert.equal(unsigned.headers.get("x-amzn-errortype"), "MissingAuthenticationTokenException");
  });

  /** Opens the data channel with `token`; resolves with the close code and the binary frames seen. */
  async function openWith(url: string, token: string): Promise<{ code: number | undefined; frames: number }> {
    const ws = new WebSocket(url);
    ws.on("error", () => {});
    await once(ws, "open");
    let frames = 0;
    ws.on("message", (_d, isBinary) => {
      if (isBinary) frames++;
    });
    ws.send(
      encodeOpenDataChannel({
        MessageSchemaVersion: "1.0",
        RequestId: "00000000-0000-4000-8000-000000000001",
        TokenValue: token,
        ClientId: "00000000-0000-4000-8000-000000000002",
        ClientVersion: "1.2.650.0",
      }),
    );
    const closed = once(ws, "close") as Promise<[number]>;
    const first = new Promise<"frame">((resolve) => ws.once("message", () => resolve("frame")));
    const outcome = await Promise.race([closed, first]);
    ws.terminate();
    return { code: outcome === "frame" ? undefined : outcome[0], frames };
  }

  test("a websocket with a wrong or replaced token is closed with 1008 before any data", async () => {
    const started = await ssm.send(new StartSessionCommand({ Target: INSTANCE.web }));
    const url = started.StreamUrl!;
    const wrong = await openWith(url, `${started.TokenValue!.slice(0, -4)}AAAA`);
    assert.deepEqual(wrong, { code: 1008, frames: 0 });
    const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: started.SessionId! }));
    const stale = await openWith(url, started.TokenValue!);
    assert.deepEqual(stale, { code: 1008, frames: 0 }, "the token replaced by ResumeSession no longer works");
    const current = await openWith(resumed.StreamUrl ?? url, resumed.TokenValue!);
    assert.equal(current.code, undefined, "the current token opens the channel");
  });
});
