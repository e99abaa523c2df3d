/**
 * Two architecture rules, checked on the real sources (ssm issue 16):
 * - the emulator depends on the wire codec only — never on the client's data channel, mux
 *   session, session, CLI, credentials, target or AWS code — so client-vs-emulator tests check
 *   two independent implementations of the protocol;
 * - no import cycles anywhere in src/.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { boundaryViolations, findCycles, type ImportGraph, readImportGraph } from "./graph.js";

/**
 * What the emulator may import from outside src/emulator: the pure wire codec (SSM messages,
 * payloads, the KMS envelope; the smux frame codec and its error codes) and two leaf utilities
 * with no imports of their own (the logger with secret redaction, the error classes).
 */
const EMULATOR_MAY_IMPORT = [
  /^src\/protocol\/[^/]+\.ts$/,
  /^src\/mux\/frame\.ts$/,
  /^src\/mux\/errors\.ts$/,
  /^src\/log\.ts$/,
  /^src\/errors\.ts$/,
];
const emulatorMayImport = (file: string) => EMULATOR_MAY_IMPORT.some((re) => re.test(file));

describe("architecture", () => {
  const graph = readImportGraph("src");

  test("the graph is read: known edges are found", () => {
    assert.ok(graph.size > 50, `${graph.size} files`);
    assert.ok(graph.get("src/emulator/agent/session.ts")?.includes("src/emulator/agent/channel/channel.ts"));
    assert.ok(graph.get("src/datachannel/client.ts")?.includes("src/datachannel/endpoint.ts"));
  });

  test("the emulator imports only the wire codec and the listed leaf utilities", () => {
    assert.deepEqual(boundaryViolations(graph, "src/emulator/", emulatorMayImport), []);
    for (const leaf of ["src/log.ts", "src/errors.ts"])
      assert.deepEqual(graph.get(leaf), [], `${leaf} stays a leaf (imports nothing)`);
  });

  test("no import cycles in src/", () => {
    assert.deepEqual(findCycles(graph), []);
  });

  test("the checks catch what they are for (a synthetic graph)", () => {
    const bad: ImportGraph = new Map([
      ["src/emulator/a.ts", ["src/emulator/b.ts", "src/protocol/message.ts"]],
      ["src/emulator/b.ts", ["src/datachannel/endpoint.ts", "src/emulator/a.ts"]],
      ["src/protocol/message.ts", ["src/session/shell.ts"]],
      ["src/datachannel/endpoint.ts", []],
      ["src/session/shell.ts", ["src/session/shell.ts"]],
    ]);
    assert.deepEqual(boundaryViolations(bad, "src/emulator/", emulatorMayImport).sort(), [
      "src/emulator/b.ts -> src/datachannel/endpoint.ts",
      "src/protocol/message.ts -> src/session/shell.ts",
    ]);
    assert.deepEqual(findCycles(bad), [["src/session/shell.ts"], ["src/emulator/a.ts", "src/emulator/b.ts"]]);
  });
});
