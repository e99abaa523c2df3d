// The OpenSSH-style escape filter of interactive shells (src/session/escape.ts), pure.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parseEscapeChar } from "../../packages/aws-runas/src/cli/commands/escape-char.js";
import { type EscapeEvent, EscapeFilter } from "../../packages/aws-runas/src/session/escape.js";

const TILDE = 0x7e;

/** Feeds `chunks` through one filter; data events are joined, actions listed in order. */
function run(char: number | null, chunks: readonly (string | Buffer)[]) {
  const filter = new EscapeFilter(char);
  const events: EscapeEvent[] = [];
  for (const chunk of chunks) events.push(...filter.push(Buffer.from(chunk as string, "latin1")));
  const data = Buffer.concat(events.flatMap((e) => (e.kind === "data" ? [e.data] : []))).toString("latin1");
  const actions = events.filter((e) => e.kind !== "data").map((e) => e.kind);
  return { data, actions, events };
}

/** Any split of `bytes` into chunks. */
const chunked = (bytes: Uint8Array, cuts: readonly number[]): Buffer[] => {
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of cuts) {
    const end = Math.min(bytes.length, at + cut);
    out.push(Buffer.from(bytes.subarray(at, end)));
    at = end;
  }
  out.push(Buffer.from(bytes.subarray(at)));
  return out;
};

describe("escape filter", () => {
  test("with escapes off, any input passes unchanged however it is chunked", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.array(fc.nat(20), { maxLength: 10 }),
        (bytes, cuts) => {
          const filter = new EscapeFilter(null);
          const out = Buffer.concat(
            chunked(bytes, cuts).flatMap((c) =>
              filter.push(c).map((e) => (e.kind === "data" ? e.data : Buffer.alloc(0))),
            ),
          );
          assert.ok(out.equals(Buffer.from(bytes)));
        },
      ),
    );
  });

  test("~~ after a newline sends exactly one ~; no action; chunking does not matter", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom("a", "b", " ", "~", "."), maxLength: 20 }),
        fc.constantFrom("\r", "\n"),
        fc.string({ unit: fc.constantFrom("a", "b", " "), maxLength: 20 }),
        fc.array(fc.nat(5), { maxLength: 8 }),
        (before, newline, after, cuts) => {
          // `before` ends without an escape pending: make it end a line.
          const line = `x${before.replaceAll("~", "")}${newline}`;
          const input = Buffer.from(`${line}~~${after}`, "latin1");
          const { data, actions } = run(TILDE, chunked(input, cuts));
          assert.equal(data, `${line}~${after}`);
          assert.deepEqual(actions, []);
        },
      ),
    );
  });

  test("~. at the session start or after a newline ends the session; data before it is sent", () => {
    assert.deepEqual(run(TILDE, ["~."]).actions, ["terminate"]);
    const r = run(TILDE, ["sleep 1000\r", "~", "."]);
    assert.equal(r.data, "sleep 1000\r");
    assert.deepEqual(r.actions, ["terminate"]);
    assert.deepEqual(run(TILDE, ["ls\n~."]).actions, ["terminate"]);
  });

  test("~ in the middle of a line is an ordinary character", () => {
    const r = run(TILDE, ["ls ~.", "/x ~~"]);
    assert.equal(r.data, "ls ~./x ~~");
    assert.deepEqual(r.actions, []);
  });

  test("~? lists the escapes and a ~. right after it still works; ~x sends both bytes", () => {
    assert.deepEqual(run(TILDE, ["\r~?~."]).actions, ["help", "terminate"]);
    const r = run(TILDE, ["~x~."]);
    assert.equal(r.data, "~x~.");
    assert.deepEqual(r.actions, []);
  });

  test("another escape character (^]) and a disabled ~", () => {
    const gs = 0x1d;
    assert.deepEqual(run(gs, ["\x1d."]).actions, ["terminate"]);
    assert.equal(run(gs, ["~."]).data, "~.");
    assert.deepEqual(run(null, ["~.", "\r~."]).actions, []);
  });

  test("parseEscapeChar", () => {
    assert.equal(parseEscapeChar("~"), TILDE);
    assert.equal(parseEscapeChar("none"), null);
    assert.equal(parseEscapeChar("^]"), 0x1d);
    assert.equal(parseEscapeChar("^a"), 0x01);
    assert.equal(parseEscapeChar(""), undefined);
    assert.equal(parseEscapeChar("ab"), undefined);
    assert.equal(parseEscapeChar("é"), undefined);
  });
});
