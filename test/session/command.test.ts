// The pure parts of remote commands: quoting for the remote shell, the exit-status marker filter
// and the ExitCode payload. test/e2e/shell-command.test.ts runs them end to end.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import fc from "fast-check";
import {
  buildRemoteCommand,
  ExitMarkerFilter,
  localExitCode,
  parseExitCode,
  quoteWord,
} from "../../packages/aws-runas/src/session/command.js";

const MARKER = "__aws_runas_exit_0123456789abcdef";

test("quoteWord: sh reads every word back unchanged", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "binary", maxLength: 40 }).filter((w) => !w.includes("\0")),
      (word) => {
        const out = execFileSync("sh", ["-c", `printf %s ${quoteWord(word)}`]);
        assert.equal(out.toString(), word);
      },
    ),
    { numRuns: 60 },
  );
});

test("buildRemoteCommand: the script runs under sh with stdin, status and marker", () => {
  const command = buildRemoteCommand({
    words: ["cat;", "exit", "7"],
    stdin: Buffer.from("in\n"),
    marker: MARKER,
  });
  let status = 0;
  let out = "";
  try {
    execFileSync("sh", ["-c", command], { stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const e = error as { status: number; stdout: Buffer };
    status = e.status;
    out = e.stdout.toString();
  }
  assert.equal(status, 7);
  assert.equal(out, `in\n\n${MARKER}:7\n`);
});

test("ExitMarkerFilter: output passes unchanged whatever the chunking; the marker line is cut", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.array(fc.nat(60), { maxLength: 12 }),
      fc.integer({ min: -1, max: 255 }),
      (bytes, cuts, status) => {
        const output = Buffer.from(bytes);
        const stream = Buffer.concat([output, Buffer.from(`\n${MARKER}:${status}\n`)]);
        const filter = new ExitMarkerFilter(MARKER);
        const seen: Buffer[] = [];
        let at = 0;
        for (const cut of cuts) {
          seen.push(filter.push(stream.subarray(at, Math.min(stream.length, at + cut))));
          at = Math.min(stream.length, at + cut);
        }
        seen.push(filter.push(stream.subarray(at)));
        const end = filter.end();
        assert.ok(Buffer.concat([...seen, end.rest]).equals(output));
        assert.equal(end.status, status);
      },
    ),
  );
});

test("ExitMarkerFilter: only what could start the marker line is held back", () => {
  const filter = new ExitMarkerFilter(MARKER);
  assert.equal(filter.push(Buffer.from("no newline yet")).toString(), "no newline yet");
  assert.equal(filter.push(Buffer.from("line\n")).toString(), "line", "a final newline waits");
  assert.equal(filter.push(Buffer.from("next\n__aws")).toString(), "\nnext");
  assert.equal(filter.push(Buffer.from("x")).toString(), "\n__awsx", "not the marker after all");
  assert.equal(filter.push(Buffer.from(`\n${MARKER}:4`)).toString(), "");
  const end = filter.end();
  assert.equal(end.status, undefined, "no closing newline: not a marker line");
  assert.equal(end.rest.toString(), `\n${MARKER}:4`);
});

test("ExitMarkerFilter: without the marker line everything comes out and there is no status", () => {
  const filter = new ExitMarkerFilter(MARKER);
  const text = Buffer.from(`short\n${MARKER}:x\n`);
  const out = Buffer.concat([filter.push(text), filter.end().rest]);
  assert.ok(out.equals(text));
});

test("parseExitCode and localExitCode", () => {
  assert.equal(parseExitCode(Buffer.from("EXIT_CODE: 42")), 42);
  assert.equal(parseExitCode(Buffer.from("EXIT_CODE: -1")), -1);
  assert.equal(parseExitCode(Buffer.from("exit 3")), undefined);
  assert.equal(localExitCode(0), 0);
  assert.equal(localExitCode(255), 255);
  assert.equal(localExitCode(-1), 255);
  assert.equal(localExitCode(300), 255);
});
