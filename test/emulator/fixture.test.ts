import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  defaultFixture,
  FixtureError,
  FLEET_INSTANCE_IDS,
  INSTANCE,
  loadFixture,
  validateFixture,
} from "../../packages/emulator/src/index.js";

/** Deep copy of the default fixture as plain JSON, for breaking one field at a time. */
function json(): Record<string, unknown> & { instances: Record<string, unknown>[] } {
  return JSON.parse(JSON.stringify(defaultFixture()));
}

function expectError(value: unknown, pattern: RegExp): void {
  assert.throws(
    () => validateFixture(value),
    (error: unknown) => {
      assert.ok(error instanceof FixtureError, `expected FixtureError, got ${String(error)}`);
      assert.ok(!error.message.includes("\n"), "one line");
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe("default fixture", () => {
  test("passes its own validation unchanged", () => {
    assert.deepEqual(validateFixture(json()), defaultFixture());
  });

  test("covers the cases the CLI needs", () => {
    const f = defaultFixture();
    const byId = new Map(f.instances.map((i) => [i.instanceId, i]));
    assert.equal(byId.get(INSTANCE.web)?.tags.Name, "web");
    assert.equal(byId.get(INSTANCE.stopped)?.state, "stopped");
    const workers = f.instances.filter((i) => i.tags.Name === "worker");
    assert.deepEqual(workers.map((w) => w.agent?.pingStatus).sort(), ["ConnectionLost", "Online"]);
    assert.notEqual(workers[0]?.launchTime, workers[1]?.launchTime);
    assert.ok(byId.get(INSTANCE.ipv6Only)?.ipv6 && !byId.get(INSTANCE.ipv6Only)?.privateIp);
    assert.ok(INSTANCE.managed.startsWith("mi-"));
    assert.ok(byId.get(INSTANCE.kms)?.sessionPreferences?.kmsKeyId);
    assert.equal(FLEET_INSTANCE_IDS.length, 12);
    assert.ok(FLEET_INSTANCE_IDS.every((id) => /^i-[0-9a-f]{17}$/.test(id)));
    assert.ok(f.dnsRecords.some((r) => r.type === "TXT" && !/m?i-[0-9a-f]{8,}/.test(r.value)));
  });

  test("defaultFixture() returns independent copies", () => {
    const a = defaultFixture();
    a.instances.length = 0;
    assert.ok(defaultFixture().instances.length > 0);
  });
});

describe("fixture validation errors name the field", () => {
  test("wrong enum value", () => {
    const f = json();
    (f.instances[2] as { agent: { pingStatus: string } }).agent.pingStatus = "Up";
    expectError(
      f,
      /^invalid fixture: instances\[2\]\.agent\.pingStatus must be "Online" or "ConnectionLost" \(got "Up"\)$/,
    );
  });

  test("bad instance id, address, account, duration", () => {
    const a = json();
    (a.instances[0] as { instanceId: string }).instanceId = "web-1";
    expectError(a, /instances\[0\]\.instanceId must be an instance id/);
    const b = json();
    (b.instances[1] as { privateIp: string }).privateIp = "10.0.0.999";
    expectError(b, /instances\[1\]\.privateIp must be an IPv4 address \(got "10\.0\.0\.999"\)/);
    const c = json();
    c.accountId = "1234";
    expectError(c, /^invalid fixture: accountId must be twelve digits/);
    const d = json();
    (d.roles as { maxSessionDurationSeconds: number }[])[0] = {
      ...(d.roles as object[])[0],
      maxSessionDurationSeconds: 60,
    } as never;
    expectError(d, /roles\[0\]\.maxSessionDurationSeconds must be an integer from 3600 to 43200 \(got 60\)/);
  });

  test("unknown fields, missing arrays, duplicates and dangling KMS references", () => {
    const a = json();
    (a.instances[0] as Record<string, unknown>).stat = "running";
    expectError(a, /unknown field instances\[0\]\.stat/);
    expectError({}, /instances must be an array \(got nothing\)/);
    expectError(null, /must be an object \(got null\)/);
    const b = json();
    (b.instances[1] as { instanceId: string }).instanceId = INSTANCE.web;
    expectError(b, /instances\[1\]\.instanceId repeats instance id "i-0123456789abcdef0"/);
    const c = json();
    (
      c.instances.find((i) => i.instanceId === INSTANCE.kms) as { sessionPreferences: { kmsKeyId: string } }
    ).sessionPreferences.kmsKeyId = "alias/nope";
    expectError(c, /sessionPreferences\.kmsKeyId must be a key id, ARN or alias from kmsKeys/);
    const d = json();
    (d.dnsRecords as { type: string; value: string }[])[0] = {
      name: "x.emu.internal",
      type: "AAAA",
      value: "10.0.0.1",
    } as never;
    expectError(d, /dnsRecords\[0\]\.value must be an IPv6 address/);
  });

  test("a minimal fixture gets defaults", () => {
    const f = validateFixture({ instances: [{ instanceId: "i-12345678" }] });
    assert.equal(f.accountId, "123456789012");
    assert.equal(f.region, "us-east-1");
    assert.deepEqual(f.instances[0], {
      instanceId: "i-12345678",
      state: "running",
      tags: {},
      launchTime: "2024-01-01T00:00:00.000Z",
      platform: "Linux",
    });
    assert.deepEqual([f.users, f.roles, f.kmsKeys, f.dnsRecords, f.remoteHosts], [[], [], [], [], []]);
  });
});

describe("loadFixture", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "emu-fixture-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("reads a valid file", async () => {
    const path = join(dir, "ok.json");
    await writeFile(path, JSON.stringify(defaultFixture()));
    assert.deepEqual(await loadFixture(path), defaultFixture());
  });

  test("prefixes errors with the file name", async () => {
    const path = join(dir, "bad.json");
    const f = json();
    (f.instances[0] as { state: string }).state = "pending";
    await writeFile(path, JSON.stringify(f));
    await assert.rejects(loadFixture(path), (e: Error) => {
      assert.equal(
        e.message,
        `${path}: invalid fixture: instances[0].state must be "running" or "stopped" (got "pending")`,
      );
      return e instanceof FixtureError;
    });
    const broken = join(dir, "broken.json");
    await writeFile(broken, "{ not json");
    await assert.rejects(
      loadFixture(broken),
      (e: Error) => e instanceof FixtureError && e.message.startsWith(`${broken}: not valid JSON:`),
    );
    await assert.rejects(
      loadFixture(join(dir, "missing.json")),
      /cannot read fixture .*missing\.json: no such file/,
    );
  });
});
