/**
 * Issue #17 acceptance: a real browser (headless Chromium) loads a page with images from a fixture
 * host through `ssm socks`. The HTTP server's log shows what was served; the screenshot is kept
 * in .tmp/artifacts/ (gitignored). Skipped, with a message, where Chromium is not installed.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { crc32, deflateSync } from "node:zlib";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { REPO_ROOT, startEmulatorProcess } from "./helpers/harness.js";
import { startHttpServer, startSocks } from "./helpers/socks.js";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(REPO_ROOT, ".tmp", "artifacts");

/** A solid-colour PNG (8-bit RGB), enough for the browser to decode and paint. */
function png(width: number, height: number, [r, g, b]: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([
    Buffer.from([0]),
    Buffer.from(Array.from({ length: width }, () => [r, g, b]).flat()),
  ]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", pixels),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

test("headless Chromium loads a page with images from site.test.internal through ssm socks", {
  skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`,
}, async (t) => {
  const images: Record<string, Buffer> = {
    "/img/red.png": png(160, 120, [220, 30, 30]),
    "/img/green.png": png(160, 120, [30, 180, 60]),
    "/img/blue.png": png(160, 120, [30, 60, 220]),
  };
  const page = `<!doctype html><html><head><title>through ssm socks</title></head><body>
<h1>Served from the instance side</h1>
${Object.keys(images)
  .map((src) => `<img src="${src}" width="160" height="120">`)
  .join("\n")}
</body></html>`;
  const http = await startHttpServer((req) => {
    if (req.url === "/index.html") return { type: "text/html", body: page };
    const image = images[req.url ?? ""];
    return image ? { type: "image/png", body: image } : { status: 404, body: "not found" };
  });
  t.after(() => http.close());
  const emulator = await startEmulatorProcess();
  t.after(() => emulator.close());
  const proxy = await startSocks(emulator.env, ["plain", INSTANCE.web]);
  t.after(() => proxy.stop("SIGKILL"));

  const profile = await mkdtemp(join(tmpdir(), "runas-chromium-"));
  t.after(() => rm(profile, { recursive: true, force: true }));
  await mkdir(ARTIFACTS, { recursive: true });
  const screenshot = join(ARTIFACTS, "socks-browser.png");
  await rm(screenshot, { force: true });
  const url = `http://site.test.internal:${http.port}/index.html`;
  const browser = spawn(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      `--proxy-server=socks5://127.0.0.1:${proxy.ready.port}`,
      "--window-size=800,400",
      `--screenshot=${screenshot}`,
      url,
    ],
    // Its own process group, so every helper process of the browser can be ended together.
    { detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  browser.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  browser.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const killGroup = () => {
    try {
      process.kill(-browser.pid!, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  t.after(killGroup);
  const timer = setTimeout(killGroup, 90_000);
  const [code] = (await once(browser, "exit")) as [number | null];
  clearTimeout(timer);
  killGroup();

  const served = http.requests.map((r) => [r.path, r.host]);
  for (const path of ["/index.html", ...Object.keys(images)]) {
    assert.ok(
      served.some(([p, h]) => p === path && h === `site.test.internal:${http.port}`),
      `${path} was served to the browser through the proxy; served: ${JSON.stringify(served)}; chromium (exit ${code}): ${output.slice(-2000)}`,
    );
  }
  const shot = await readFile(screenshot);
  assert.deepEqual(
    [...shot.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    "a PNG screenshot",
  );
  assert.ok(shot.length > 1000, "the screenshot has content");
  t.diagnostic(`screenshot saved as ${screenshot}`);
});
