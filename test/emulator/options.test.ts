import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UsageError } from "@aws-runas/wire/errors.js";
import {
  noFaults,
  parseEmulatorOptions,
  parseFaultSpec,
  parseFaults,
} from "../../packages/emulator/src/program/options.js";

describe("parseEmulatorOptions", () => {
  test("defaults", () => {
    assert.deepEqual(parseEmulatorOptions({}), {
      port: 0,
      fixturePath: undefined,
      dnsPort: 0,
      pacing: "none",
      faults: noFaults(),
      stateDir: undefined,
      requireSignedChannel: false,
    });
  });

  test("recycle and outage faults", () => {
    const f = parseFaults(["recycle-websocket-every=1.5", "outage=30:60", "outage-after=90,seconds=5"]);
    assert.equal(f.recycleWebsocketEverySeconds, 1.5);
    assert.deepEqual(f.outages, [
      { afterSeconds: 30, seconds: 60 },
      { afterSeconds: 90, seconds: 5 },
    ]);
    for (const bad of ["recycle-websocket-every=0", "outage=30", "outage=a:1", "seconds=5"])
      assert.throws(() => parseFaults([bad]), /--fault|outage/, bad);
  });

  test("all options", () => {
    const o = parseEmulatorOptions({
      port: "8123",
      fixture: "world.json",
      dnsPort: "5353",
      pacing: "realistic",
      fault: ["delay=20", "refuse-resume"],
      stateDir: "/tmp/x",
      requireSignedChannel: true,
    });
    assert.equal(o.requireSignedChannel, true);
    assert.equal(o.port, 8123);
    assert.equal(o.dnsPort, 5353);
    assert.equal(o.pacing, "realistic");
    assert.equal(o.fixturePath, "world.json");
    assert.equal(o.stateDir, "/tmp/x");
    assert.equal(o.faults.delayMs, 20);
    assert.equal(o.faults.refuseResume, true);
  });

  for (const [raw, message] of [
    [{ port: "70000" }, /--port must be a whole number from 0 to 65535 \(got "70000"\)/],
    [{ port: "-1" }, /--port/],
    [{ dnsPort: "x" }, /--dns-port/],
    [{ pacing: "fast" }, /--pacing must be "realistic" or "none" \(got "fast"\)/],
    [{ fixture: "" }, /--fixture needs a file name/],
  ] as const) {
    test(`rejects ${JSON.stringify(raw)}`, () => {
      assert.throws(
        () => parseEmulatorOptions(raw),
        (e: Error) => e instanceof UsageError && message.test(e.message),
      );
    });
  }
});

describe("fault specs", () => {
  test("each kind", () => {
    const f = parseFaults([
      "drop-websocket-after=10",
      "duplicate=5",
      "reorder=12.5",
      "delay=3",
      "corrupt-digest=2",
      "refuse-resume",
      "target-not-connected=i-0123456789abcdef0",
      "target-not-connected=mi-0123456789abcdef0",
    ]);
    assert.deepEqual(f, {
      dropWebsocketAfter: 10,
      duplicatePercent: 5,
      reorderPercent: 12.5,
      delayMs: 3,
      corruptDigest: 2,
      recycleWebsocketEverySeconds: undefined,
      outages: [],
      refuseResume: true,
      targetNotConnected: ["i-0123456789abcdef0", "mi-0123456789abcdef0"],
    });
  });

  test("comma-separated specs in one flag", () => {
    assert.deepEqual(parseFaults(["duplicate=1,reorder=2"]), {
      ...noFaults(),
      duplicatePercent: 1,
      reorderPercent: 2,
    });
  });

  test("parseFaultSpec does not modify its input", () => {
    const base = noFaults();
    const next = parseFaultSpec("target-not-connected=i-12345678", base);
    assert.deepEqual(base.targetNotConnected, []);
    assert.deepEqual(next.targetNotConnected, ["i-12345678"]);
  });

  for (const [spec, message] of [
    ["explode", /unknown fault "explode"/],
    ["duplicate=150", /--fault duplicate must be a percentage from 0 to 100 \(got "150"\)/],
    ["duplicate", /--fault duplicate needs a value/],
    ["delay=-1", /--fault delay must be a whole number/],
    ["drop-websocket-after=0", /from 1/],
    ["refuse-resume=yes", /takes no value/],
    ["target-not-connected=web", /needs an instance id \(got "web"\)/],
  ] as const) {
    test(`rejects ${spec}`, () => {
      assert.throws(
        () => parseFaultSpec(spec),
        (e: Error) => e instanceof UsageError && message.test(e.message),
      );
    });
  }
});
