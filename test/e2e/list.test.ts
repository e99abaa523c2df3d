/**
 * `ssm list` (built CLI against the built emulator): every managed instance, online first, as a
 * table that fits 80 columns or as JSON; filters; every page of DescribeInstanceInformation.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { defaultFixture, INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { requestLog } from "./helpers/forward.js";
import { assertOneLineError, type EmulatorProcess, runCli, startEmulatorProcess } from "./helpers/harness.js";

interface Listed {
  instanceId: string;
  name: string;
  pingStatus: string;
  agentVersion: string;
  privateIp: string;
  tags: Record<string, string>;
}

describe("ssm list", () => {
  let emulator: EmulatorProcess;
  before(async () => {
    emulator = await startEmulatorProcess();
  });
  after(() => emulator.close());

  test("--json lists every fixture instance (more than one page), online agents first", async () => {
    const r = await runCli(["ssm", "list", "plain", "--json"], { env: emulator.env });
    assert.equal(r.code, 0, r.stderr);
    // The default world has more managed instances than DescribeInstanceInformation's largest page.
    assert.ok(defaultFixture().instances.length > 50);
    const calls = (await requestLog(emulator)).filter((e) => e.operation === "DescribeInstanceInformation");
    assert.equal(calls.length, 2, "both pages read");
    const listed = JSON.parse(r.stdout) as Listed[];
    const expected = defaultFixture().instances.map((i) => i.instanceId);
    assert.deepEqual(listed.map((i) => i.instanceId).sort(), [...expected].sort());
    const firstOffline = listed.findIndex((i) => i.pingStatus !== "Online");
    assert.ok(firstOffline > 0);
    assert.ok(
      listed.slice(firstOffline).every((i) => i.pingStatus !== "Online"),
      "online first",
    );
    const web = listed.find((i) => i.instanceId === INSTANCE.web)!;
    assert.deepEqual(
      { name: web.name, privateIp: web.privateIp, agentVersion: web.agentVersion, env: web.tags.env },
      { name: "web", privateIp: "10.0.0.10", agentVersion: "3.3.40.0", env: "prod" },
    );
  });

  test("the table fits 80 columns and shows id, name, address, platform, agent and ping", async () => {
    const r = await runCli(["ssm", "list", "plain"], { env: emulator.env });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^INSTANCE ID\s+NAME\s+PRIVATE IP\s+PLATFORM\s+AGENT\s+PING$/);
    for (const line of lines) assert.ok([...line].length <= 80, `${line.length} columns: ${line}`);
    assert.equal(lines.length, 1 + defaultFixture().instances.length);
    assert.ok(
      lines.some((l) => /^i-0123456789abcdef0\s+web\s+10\.0\.0\.10\s+Linux\s+3\.3\.40\.0\s+Online$/.test(l)),
    );
    assert.ok(
      lines.some((l) => /^i-0a1b2c3d4e5f60004\s+worker\s+\S+\s+Linux\s+\S+\s+ConnectionLost$/.test(l)),
    );
    assert.equal(r.stderr, "");
  });

  test("--filter Name=web* and a tag spec env:staging", async () => {
    const web = await runCli(["ssm", "list", "plain", "--json", "--filter", "Name=web*"], {
      env: emulator.env,
    });
    assert.deepEqual(
      (JSON.parse(web.stdout) as Listed[]).map((i) => i.instanceId),
      [INSTANCE.web],
    );
    const staging = await runCli(["ssm", "list", "--filter", "env:staging", "--json", "plain"], {
      env: emulator.env,
    });
    assert.deepEqual(
      (JSON.parse(staging.stdout) as Listed[]).map((i) => i.instanceId),
      [INSTANCE.workerOnline, INSTANCE.workerLost],
    );
    const bad = await runCli(["ssm", "list", "plain", "--filter", "nokey"], { env: emulator.env });
    assertOneLineError(bad, /invalid --filter "nokey"/, { exitCode: 2, hint: /Name=web\*/ });
  });
});

describe("ssm list with more than two DescribeInstanceInformation pages and a long name", () => {
  let emulator: EmulatorProcess;
  let dir: string;
  const extra = 60;
  before(async () => {
    const fixture = defaultFixture();
    for (let i = 0; i < extra; i++) {
      fixture.instances.push({
        instanceId: `i-0c${i.toString(16).padStart(15, "0")}`,
        state: "running",
        tags: { Name: i === 0 ? "a-very-long-instance-name-that-cannot-fit-in-the-table" : `extra-${i}` },
        privateIp: `10.0.2.${i + 1}`,
        launchTime: "2024-07-01T00:00:00.000Z",
        platform: "Linux",
        agent: { version: "3.3.40.0", pingStatus: i % 2 === 0 ? "Online" : "ConnectionLost" },
      });
    }
    dir = mkdtempSync(join(tmpdir(), "runas-e2e-list-"));
    const path = join(dir, "fixture.json");
    writeFileSync(path, JSON.stringify(fixture));
    emulator = await startEmulatorProcess(["--fixture", path]);
  });
  after(async () => {
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("every instance is listed (three pages read) and the long name is cut to fit", async () => {
    const r = await runCli(["ssm", "list", "plain", "--json"], { env: emulator.env });
    assert.equal(r.code, 0, r.stderr);
    const listed = JSON.parse(r.stdout) as Listed[];
    assert.equal(listed.length, defaultFixture().instances.length + extra);
    assert.equal(new Set(listed.map((i) => i.instanceId)).size, listed.length);
    const calls = (await requestLog(emulator)).filter((e) => e.operation === "DescribeInstanceInformation");
    assert.equal(calls.length, 3, `${calls.length} DescribeInstanceInformation calls`);
    const table = await runCli(["ssm", "list", "plain"], { env: emulator.env });
    const lines = table.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 1 + listed.length);
    for (const line of lines) assert.ok([...line].length <= 80, `${line.length} columns: ${line}`);
    assert.ok(
      lines.some((l) => /\sa-very-\S*…\s/.test(l)),
      "the long name ends in …",
    );
  });
});
