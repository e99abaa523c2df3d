/**
 * Issue 15 item 6, end to end: every SDK call and the data-channel websocket go through a real
 * forward proxy (tinyproxy). The emulator's endpoints are plain http://, so HTTP_PROXY applies:
 * API calls in absolute form (as Go's net/http and botocore send them), the ws:// websocket
 * through a CONNECT tunnel (as gorilla/websocket does). The proxy's own log is the evidence.
 * Proxy credentials are never printed; NO_PROXY bypasses; a proxy that is down gives one line
 * and exit 1.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import {
  connectLocal,
  echoRoundTrip,
  startEchoServer,
  startForward,
  type TestServer,
} from "./helpers/forward.js";
import {
  assertOneLineError,
  type EmulatorProcess,
  freePort,
  runCli,
  spawnCli,
  startEmulatorProcess,
  waitForOutput,
} from "./helpers/harness.js";
import { type RunningProxy, startTinyproxy } from "./helpers/proxy.js";

describe("through an HTTP proxy (tinyproxy)", () => {
  let emulator: EmulatorProcess;
  let echo: TestServer;
  let proxy: RunningProxy;
  let authProxy: RunningProxy;
  const PASSWORD = "pr0xy-s3cret-pw";
  before(async () => {
    [emulator, echo, proxy, authProxy] = await Promise.all([
      startEmulatorProcess(["--require-signed-channel"]),
      startEchoServer(),
      startTinyproxy(),
      startTinyproxy({ user: "runas", password: PASSWORD }),
    ]);
  });
  after(() => Promise.all([emulator?.close(), echo?.close(), proxy?.close(), authProxy?.close()]));

  const emulatorPort = () => new URL(emulator.exports.AWS_ENDPOINT_URL!).port;
  const viaProxy = (url = proxy.url) => ({ ...emulator.env, HTTP_PROXY: url });
  /** The API calls (absolute form) and the websocket tunnels (CONNECT) the proxy relayed. */
  const relayed = (log: string) => ({
    api: log.split("\n").filter((l) => l.includes(`POST http://127.0.0.1:${emulatorPort()}/`)).length,
    tunnels: log.split("\n").filter((l) => l.includes(`CONNECT 127.0.0.1:${emulatorPort()}`)).length,
  });

  test("ssm shell: API calls and the websocket go through the proxy", async () => {
    const before = relayed(proxy.log());
    const r = await runCli(["ssm", "shell", "role", INSTANCE.web], {
      env: viaProxy(),
      input: "echo via-$((40+2))\nexit\n",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^via-42\r?$/m);
    const now = relayed(proxy.log());
    assert.ok(now.api >= before.api + 3, `STS and SSM calls were relayed (${now.api - before.api})`);
    assert.ok(now.tunnels >= before.tunnels + 1, "the websocket was tunnelled");
  });

  test("ssm forward and ssm ssh through the proxy", async () => {
    const before = relayed(proxy.log());
    const f = await startForward(viaProxy(), ["plain", `${INSTANCE.web}:${echo.port}`]);
    try {
      const socket = await connectLocal(f.port);
      const r = await echoRoundTrip(socket, 512 * 1024);
      assert.equal(r.received, r.sent);
      socket.destroy();
    } finally {
      assert.deepEqual(await f.stop("SIGINT"), { code: 0, signal: null }, f.stderr());
    }
    const child = spawnCli(["ssm", "ssh", "plain", `ec2-user@${INSTANCE.web}:${echo.port}`], viaProxy());
    try {
      child.stdin!.write("ssh-through-proxy\n");
      await waitForOutput(child.stdout!, /ssh-through-proxy\n/);
      child.stdin!.end();
      assert.equal((await once(child, "exit"))[0], 0);
    } finally {
      child.kill("SIGKILL");
    }
    const now = relayed(proxy.log());
    assert.ok(now.tunnels >= before.tunnels + 2, "both websockets were tunnelled");
    assert.ok(now.api >= before.api + 2);
  });

  test("proxy credentials in the URL work and are never printed (-vv)", async () => {
    const r = await runCli(["-vv", "ssm", "shell", "plain", INSTANCE.web], {
      env: viaProxy(`http://runas:${PASSWORD}@127.0.0.1:${authProxy.port}`),
      input: "echo authed\nexit\n",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^authed\r?$/m);
    assert.ok(relayed(authProxy.log()).tunnels >= 1);
    assert.ok(!(r.stdout + r.stderr).includes(PASSWORD), "the proxy password was printed");
    assert.match(r.stderr, /through the proxy http:\/\/127\.0\.0\.1:\d+/);
  });

  test("NO_PROXY bypasses the proxy", async () => {
    const before = relayed(proxy.log());
    const r = await runCli(["ssm", "shell", "plain", INSTANCE.web], {
      env: { ...viaProxy(), NO_PROXY: "localhost,127.0.0.1" },
      input: "echo direct\nexit\n",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(relayed(proxy.log()), before);
  });

  test("the proxy is down: one clear line and exit 1, for every command", async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    for (const args of [
      ["ssm", "shell", "plain", INSTANCE.web],
      ["ssm", "forward", "plain", `${INSTANCE.web}:${echo.port}`],
      ["ssm", "ssh", "plain", `ec2-user@${INSTANCE.web}:22`],
    ]) {
      const r = await runCli(args, { env: viaProxy(down), timeoutMs: 60_000 });
      assertOneLineError(r, /cannot connect to the proxy http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/, {
        exitCode: 1,
      });
    }
  });
});
