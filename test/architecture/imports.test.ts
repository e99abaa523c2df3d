/**
 * The architecture rules, checked on the real sources (ssm issue 16):
 * - the emulator depends on `@aws-runas/wire` only — never on the client's data channel, mux
 *   session, session, CLI, credentials, target or AWS code — so client-vs-emulator tests check
 *   two independent implementations of the protocol;
 * - the client depends on `wire` and never on the emulator; `wire` depends on nothing of ours;
 * - a package reaches another only by its package name, never by a relative path;
 * - no import cycles anywhere in packages/.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { boundaryViolations, findCycles, type ImportGraph, readImportGraph } from "./graph.js";

const WIRE = "packages/wire/src/";
const CLIENT = "packages/aws-runas/src/";
const EMULATOR = "packages/emulator/src/";
const inWire = (file: string) => file.startsWith(WIRE);

/** Relative imports that leave their package (`../../wire/src/…` instead of `@aws-runas/wire/…`). */
function relativeCrossings(relativeEdges: ImportGraph): string[] {
  const packageOf = (file: string) => file.split("/").slice(0, 2).join("/");
  return [...relativeEdges].flatMap(([file, targets]) =>
    targets.filter((t) => packageOf(t) !== packageOf(file)).map((t) => `${file} -> ${t}`),
  );
}

describe("architecture", () => {
  const { graph, relativeEdges } = readImportGraph("packages");

  test("the graph is read: known edges are found, workspace imports resolved", () => {
    assert.ok(graph.size > 50, `${graph.size} files`);
    assert.ok(graph.get(`${EMULATOR}agent/session.ts`)?.includes(`${EMULATOR}agent/channel/channel.ts`));
    assert.ok(graph.get(`${CLIENT}datachannel/client.ts`)?.includes(`${CLIENT}datachannel/endpoint.ts`));
    assert.ok(graph.get(`${EMULATOR}agent/session.ts`)?.some(inWire), "the agent uses the wire codec");
  });

  test("the emulator imports only the wire package", () => {
    assert.deepEqual(boundaryViolations(graph, "packages/emulator/", inWire), []);
  });

  test("the client imports only the wire package (never the emulator)", () => {
    assert.deepEqual(boundaryViolations(graph, "packages/aws-runas/", inWire), []);
  });

  test("wire imports nothing of ours; its logger and errors are leaves", () => {
    assert.deepEqual(
      boundaryViolations(graph, WIRE, () => false),
      [],
    );
    for (const leaf of [`${WIRE}log.ts`, `${WIRE}errors.ts`])
      assert.deepEqual(graph.get(leaf), [], `${leaf} stays a leaf (imports nothing)`);
  });

  test("packages reach each other by package name only", () => {
    assert.deepEqual(relativeCrossings(relativeEdges), []);
  });

  test("no import cycles in packages/", () => {
    assert.deepEqual(findCycles(graph), []);
  });

  test("the checks catch what they are for (a synthetic graph)", () => {
    const bad: ImportGraph = new Map([
      [`${EMULATOR}a.ts`, [`${EMULATOR}b.ts`, `${WIRE}protocol/message.ts`]],
      [`${EMULATOR}b.ts`, [`${CLIENT}datachannel/endpoint.ts`, `${EMULATOR}a.ts`]],
      [`${WIRE}protocol/message.ts`, [`${CLIENT}session/shell.ts`]],
      [`${CLIENT}datachannel/endpoint.ts`, []],
      [`${CLIENT}session/shell.ts`, [`${CLIENT}session/shell.ts`]],
    ]);
    assert.deepEqual(boundaryViolations(bad, EMULATOR, inWire).sort(), [
      `${EMULATOR}b.ts -> ${CLIENT}datachannel/endpoint.ts`,
      `${WIRE}protocol/message.ts -> ${CLIENT}session/shell.ts`,
    ]);
    assert.deepEqual(findCycles(bad), [
      [`${CLIENT}session/shell.ts`],
      [`${EMULATOR}a.ts`, `${EMULATOR}b.ts`],
    ]);
    const crossing: ImportGraph = new Map([[`${EMULATOR}a.ts`, [`${EMULATOR}b.ts`, `${WIRE}errors.ts`]]]);
    assert.deepEqual(relativeCrossings(crossing), [`${EMULATOR}a.ts -> ${WIRE}errors.ts`]);
  });
});
