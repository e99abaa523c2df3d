/**
 * Issue #11: a shell session printing 5 MB (3.75 MB of seeded pseudo-random bytes as 100-column
 * base64) under duplicate=1 %, reorder=1 %, delay=20 ms and three websocket drops — the output is
 * byte-identical to the same program run locally (`\r\n` normalised). Built CLI against the
 * built emulator; stdin stays open like a person's terminal.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { type EmulatorProcess, spawnCli, startEmulatorProcess } from "../e2e/helpers/harness.js";
import { assertNoChildProcesses, countRequests, ensureBuilt, watchProgress } from "./helpers.js";

/** 3 750 000 bytes from AES-128-CTR with a fixed key, base64 in 100-column lines: 5 050 000 bytes. */
const GENERATOR = `import { createCipheriv } from "node:crypto";
const bytes = createCipheriv("aes-128-ctr", Buffer.alloc(16, 11), Buffer.alloc(16)).update(Buffer.alloc(3750000));
const text = bytes.toString("base64");
const lines = [];
for (let i = 0; i < text.length; i += 100) lines.push(text.slice(i, i + 100));
process.stdout.write(lines.join("\\n") + "\\n");
`;

/**
 * The gateway counts fresh frames toward the client (output first sent, acks): ~4 950 here, less
 * the few fresh frames each drop loses in the delay queue (resent later, uncounted). Dropping
 * after 1 300 per connection gives three drops (3 900) and never a fourth (5 200); bigger pty reads
 * mean fewer frames, and then two.
 */
const DROP_AFTER = 1300;
const STALL_MS = 20_000;

/** Every process these tests start is gone once the suites closed them. */
after(assertNoChildProcesses);

describe("5 MB of shell output under duplicate/reorder/delay faults and three websocket drops", () => {
  let emulator: EmulatorProcess;
  let dir: string;
  let expected: string;
  before(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), "runas-shell-faults-"));
    writeFileSync(join(dir, "gen.mjs"), GENERATOR);
    expected = execFileSync(process.execPath, [join(dir, "gen.mjs")], {
      maxBuffer: 64 * 1024 * 1024,
    }).toString();
    emulator = await startEmulatorProcess([
      "-v",
      ...["duplicate=1", "reorder=1", "delay=20", `drop-websocket-after=${DROP_AFTER}`].flatMap((f) => [
        "--fault",
        f,
      ]),
    ]);
  });
  after(async () => {
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the output is byte-identical to a local run", async (t) => {
    assert.equal(expected.length, 5_050_000, "the generator's output size");
    const child = spawnCli(["ssm", "shell", "plain", INSTANCE.web], emulator.env);
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    const out: Buffer[] = [];
    let received = 0;
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => {
      out.push(d);
      received += d.length;
    });
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdin!.on("error", () => {});
    // Arithmetic keeps the echoed command line from containing the markers.
    child.stdin!.write(
      `echo BEGIN-$((1+1)); ${JSON.stringify(process.execPath)} ${JSON.stringify(join(dir, "gen.mjs"))}; echo END-$((2+2))\nexit\n`,
    );
    const watch = watchProgress(
      () => received,
      STALL_MS,
      () => `received ${received} bytes; stderr: ${stderr.slice(-500)}`,
    );
    let code: number | null;
    try {
      [code] = (await Promise.race([once(child, "exit"), watch.stalled])) as [number | null];
    } finally {
      watch.stop();
      child.stdin!.end();
    }
    // Normalise the terminal's \r\n and drop its escape sequences (bracketed paste on and off).
    const text = Buffer.concat(out)
      .toString("latin1")
      .replace(/\r/g, "")
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
    const from = text.indexOf("\nBEGIN-2\n");
    const to = text.indexOf("\nEND-4\n", from);
    assert.ok(
      from >= 0 && to > from,
      `markers missing; output: ${JSON.stringify(text.slice(0, 200))} ... ${JSON.stringify(text.slice(-200))}`,
    );
    const got = text.slice(from + "\nBEGIN-2\n".length, to + 1);
    if (got !== expected) {
      const at = [...got].findIndex((c, i) => c !== expected[i]);
      assert.fail(
        `output differs at byte ${at} (got ${got.length} bytes, expected ${expected.length}): ` +
          JSON.stringify(got.slice(Math.max(0, at - 40), at + 40)),
      );
    }
    assert.equal(code, 0, stderr);
    const drops = emulator.stderr().match(/fault drop-websocket-after, killing the websocket/g)?.length ?? 0;
    const resumes = await countRequests(emulator, "ResumeSession");
    // The frame count depends on how the pty hands over its output (~4 950 frames at 1 KiB; fewer
    // when reads are bigger), so the drops are two or three: what matters is that each resumed.
    assert.ok(drops >= 2 && drops <= 3, `the websocket was dropped two or three times (${drops})`);
    assert.equal(resumes, drops, "each drop was resumed with one ResumeSession call");
  });
});
