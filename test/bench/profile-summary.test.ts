import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import {
  type CpuProfile,
  declaredName,
  formatSummary,
  sourceMapResolver,
  summarizeProfile,
} from "../../bench/profile-summary.js";

const frame = (functionName: string, url = "", lineNumber = 0, columnNumber = 0) => ({
  functionName,
  url,
  lineNumber,
  columnNumber,
});

/** Five samples 1 ms apart: hot ×2 (plus 1 in a second node of the same function), gc ×1, idle ×1. */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame("(root)") },
    { id: 2, callFrame: frame("hot", "node:internal/hot", 9) },
    { id: 3, callFrame: frame("(garbage collector)") },
    { id: 4, callFrame: frame("(idle)") },
    { id: 5, callFrame: frame("hot", "node:internal/hot", 9) },
  ],
  startTime: 0,
  endTime: 5000,
  samples: [2, 2, 3, 4, 5],
  timeDeltas: [0, 1000, 1000, 1000, 1000],
};

describe("bench profile summary", () => {
  test("self time per function and file, idle excluded from the busy share", () => {
    const s = summarizeProfile(profile);
    assert.equal(s.totalMs, 5);
    assert.equal(s.idleMs, 1);
    assert.equal(s.busyMs, 4);
    assert.deepEqual(
      s.functions.map((f) => [f.functionName, f.location, f.selfMs, f.percent]),
      [
        ["hot", "node:internal/hot:10", 3, 75],
        ["(garbage collector)", "", 1, 25],
      ],
    );
    assert.deepEqual(s.files[0], { file: "node:internal/hot", selfMs: 3, percent: 75 });
    const text = formatSummary(s, 1);
    assert.match(text, /^busy 4 ms of 5 ms sampled \(idle 1 ms\)/);
    assert.match(text, / 75\.0%\s+3 ms {2}hot {2}node:internal\/hot:10/);
    assert.doesNotMatch(text, /garbage collector\) {2}/);
  });

  test("declaredName finds what a source line declares", () => {
    assert.equal(
      declaredName("export function encodeMessage(message: SsmMessage): Buffer {"),
      "encodeMessage",
    );
    assert.equal(declaredName("const json = (value: unknown): Buffer => Buffer.from(x);"), "json");
    assert.equal(declaredName("  #handleAck(message: DecodedMessage): void {"), "#handleAck");
    assert.equal(
      declaredName("  override _write(chunk: Buffer, _e: string, cb: () => void): void {"),
      "_write",
    );
    assert.equal(declaredName("  get receiveBuffered(): number {"), "receiveBuffered");
    assert.equal(declaredName("  #onData = (chunk: Buffer | string): void => {"), "#onData");
    assert.equal(declaredName("    if (x) return;"), undefined);
  });

  test("minified bundle positions map back to the source file, line and name", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "bench-profile-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(
      join(dir, "lib.ts"),
      "export function addAll(xs: number[]): number {\n  let s = 0;\n  for (const x of xs) s += x;\n  return s;\n}\n",
    );
    await writeFile(
      join(dir, "main.ts"),
      'import { addAll } from "./lib.js";\nconsole.log(addAll([1, 2]));\n',
    );
    const out = join(dir, "out.js");
    await build({
      entryPoints: [join(dir, "main.ts")],
      outfile: out,
      bundle: true,
      minify: true,
      sourcemap: "linked",
      format: "esm",
      logLevel: "silent",
    });
    const code = await readFile(out, "utf8");
    // The minified function is declared as `function <name>(` somewhere on line 1.
    const m = /function ([\w$]+)\(/.exec(code);
    assert.ok(m, code);
    const resolve = sourceMapResolver(dir);
    const where = resolve(pathToFileURL(out).href, 0, m.index);
    assert.deepEqual(where, { location: "lib.ts:1", name: "addAll" });
    assert.deepEqual(resolve("node:internal/x", 4, 0), { location: "node:internal/x:5" });
  });
});
