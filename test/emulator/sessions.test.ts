import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AdjustableClock,
  defaultFixture,
  INSTANCE,
  isDocumentProblem,
  resolveDocument,
  SessionRegistry,
} from "../../packages/emulator/src/index.js";

const web = defaultFixture().instances.find((i) => i.instanceId === INSTANCE.web);
if (!web) throw new Error("fixture lacks web");

function registry(bytes?: () => number) {
  let counter = 0;
  return new SessionRegistry({
    clock: { now: () => 1_700_000_000_000 },
    random: (size) => Buffer.alloc(size, bytes ? bytes() : ++counter),
  });
}

const shell = {
  callerName: "alice",
  createdBy: "arn:aws:iam::123456789012:user/alice",
  instance: web,
  documentName: "SSM-SessionManagerRunShell",
  parameters: {},
  sessionType: "Standard_Stream" as const,
  properties: null,
  kmsKeyId: "key-1",
};

describe("SessionRegistry", () => {
  test("ids look like the service's, tokens validate, unknown ids do not", () => {
    const r = registry();
    const s = r.create(shell);
    assert.equal(s.sessionId, "alice-01010101010101010");
    assert.equal(s.createdAt, 1_700_000_000_000);
    assert.equal(s.state, "Connecting");
    assert.equal(s.kmsKeyId, "key-1");
    assert.ok(r.validateToken(s.sessionId, s.token));
    assert.ok(!r.validateToken(s.sessionId, `${s.token}x`));
    assert.ok(!r.validateToken("other", s.token));
    assert.deepEqual(
      r.list().map((x) => x.sessionId),
      [s.sessionId],
    );
  });

  test("caller names are cleaned for the id prefix; collisions retry", () => {
    const r = registry(() => 7);
    let calls = 0;
    const first = r.create({ ...shell, callerName: "a b/c" });
    assert.match(first.sessionId, /^abc-[0-9a-f]{17}$/);
    const rr = new SessionRegistry({
      clock: { now: () => 0 },
      random: (size) => Buffer.alloc(size, calls++ < 3 ? 1 : 2),
    });
    const a = rr.create(shell);
    const b = rr.create(shell);
    assert.notEqual(a.sessionId, b.sessionId);
  });

  test("Port sessions never carry a KMS key", () => {
    const s = registry().create({ ...shell, sessionType: "Port", properties: { portNumber: "22" } });
    assert.equal(s.kmsKeyId, undefined);
  });

  test("rotateToken, setState and terminate (once, with an event)", () => {
    const r = registry();
    const s = r.create(shell);
    const old = s.token;
    const fresh = r.rotateToken(s.sessionId);
    assert.ok(fresh && fresh !== old);
    assert.ok(!r.validateToken(s.sessionId, old));
    r.setState(s.sessionId, "Connected");
    assert.equal(r.get(s.sessionId)?.state, "Connected");
    const events: string[] = [];
    const off = r.onTerminated((x, reason) => events.push(`${x.sessionId} ${reason}`));
    assert.equal(r.terminate(s.sessionId, "emulator"), true);
    assert.equal(r.terminate(s.sessionId), false);
    off();
    assert.deepEqual(events, [`${s.sessionId} emulator`]);
    assert.equal(r.rotateToken(s.sessionId), undefined);
    r.setState(s.sessionId, "Connected");
    assert.equal(r.get(s.sessionId)?.state, "Terminated");
    assert.equal(r.terminate("nope"), false);
  });
});

describe("resolveDocument", () => {
  test("default document and defaults", () => {
    assert.deepEqual(resolveDocument(undefined, undefined), {
      documentName: "SSM-SessionManagerRunShell",
      sessionType: "Standard_Stream",
      parameters: {},
      properties: null,
    });
    const fwd = resolveDocument("AWS-StartPortForwardingSessionToRemoteHost", {});
    assert.ok(!isDocumentProblem(fwd));
    assert.deepEqual(fwd.parameters, { host: "localhost", portNumber: "80", localPortNumber: "0" });
  });

  test("port ranges", () => {
    for (const ok of ["1", "22", "65535"]) {
      assert.ok(!isDocumentProblem(resolveDocument("AWS-StartSSHSession", { portNumber: [ok] })), ok);
    }
    for (const bad of ["0", "65536", "022", "", "8o"]) {
      const r = resolveDocument("AWS-StartSSHSession", { portNumber: [bad] });
      assert.ok(isDocumentProblem(r) && r.code === "InvalidParameters", bad);
    }
    assert.ok(
      !isDocumentProblem(resolveDocument("AWS-StartPortForwardingSession", { localPortNumber: ["0"] })),
    );
  });

  test("problems carry the AWS code and a message naming the parameter", () => {
    assert.deepEqual(resolveDocument("Nope", undefined), {
      code: "InvalidDocument",
      message: "Document with name Nope does not exist.",
    });
    const r = resolveDocument("AWS-StartPortForwardingSessionToRemoteHost", { host: ["db;rm"] });
    assert.ok(isDocumentProblem(r));
    assert.match(r.message, /^Parameter "host" has value "db;rm" not matching "/);
    assert.deepEqual(resolveDocument("AWS-StartInteractiveCommand", {}), {
      code: "InvalidParameters",
      message: 'Parameter "command" is required by document AWS-StartInteractiveCommand.',
    });
    assert.ok(isDocumentProblem(resolveDocument("toString", undefined)), "no prototype lookups");
  });
});

describe("AdjustableClock", () => {
  test("advances, notifies and refuses to go back", () => {
    let base = 1000;
    const clock = new AdjustableClock({ now: () => base });
    const seen: number[] = [];
    const off = clock.onAdvance((offset) => seen.push(offset));
    clock.advance(1.5);
    base = 2000;
    assert.equal(clock.now(), 3500);
    off();
    clock.advance(1);
    assert.deepEqual(seen, [1500]);
    assert.throws(() => clock.advance(-1), RangeError);
  });
});
