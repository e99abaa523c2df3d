/**
 * Target resolution against the real emulator (EC2/SSM APIs over HTTP with SigV4, and its DNS
 * server) through the client's real AWS clients — the same paths as resolve.test.ts, end to end.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger, silentLogger } from "@aws-runas/wire/log.js";
import { EC2Client } from "@aws-sdk/client-ec2";
import { createSsmClient } from "../../packages/aws-runas/src/aws/ssm-client.js";
import {
  createAwsLookups,
  createDnsLookupFromEnv,
  DNS_SERVERS_ENV,
  type ResolveContext,
  resolveTarget,
  TargetNotFoundError,
} from "../../packages/aws-runas/src/target/index.js";
import {
  ADDRESS,
  ALICE,
  DEFAULT_ACCOUNT_ID,
  DNS_NAME,
  defaultFixture,
  FLEET_INSTANCE_IDS,
  INSTANCE,
  type RunningEmulator,
  startEmulator,
} from "../../packages/emulator/src/index.js";

/** A user who may call nothing but GetCallerIdentity, to provoke a real access-denied answer. */
const CAROL = {
  userName: "carol",
  accessKeyId: "AKIAEMULATORCAROL001",
  secretAccessKey: "carolEmulatorSecretKey/0000000000000000",
} as const;

let emulator: RunningEmulator;
before(async () => {
  const fixture = defaultFixture();
  fixture.users.push({
    userName: CAROL.userName,
    accessKeys: [{ accessKeyId: CAROL.accessKeyId, secretAccessKey: CAROL.secretAccessKey }],
    mfaDevices: [],
    allow: ["sts:GetCallerIdentity"],
  });
  emulator = await startEmulator({ fixture, gateway: false });
});
after(() => emulator.close());

interface Harness {
  ctx: ResolveContext;
  warnings: string[];
}

async function harness(
  key: { accessKeyId: string; secretAccessKey: string } = ALICE,
  ec2PageSize?: number,
): Promise<Harness> {
  const config = {
    region: emulator.fixture.region,
    endpoint: emulator.endpointUrl,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    maxAttempts: 1,
  };
  const ec2 = new EC2Client(config);
  const ssm = await createSsmClient({ ...config, logger: silentLogger, env: {} });
  const warnings: string[] = [];
  const ctx: ResolveContext = {
    ...createAwsLookups({ ec2, ssm }, ec2PageSize === undefined ? {} : { ec2PageSize }),
    dns: createDnsLookupFromEnv({ [DNS_SERVERS_ENV]: emulator.env[DNS_SERVERS_ENV] }),
    logger: createLogger(0, (line) => warnings.push(line)),
  };
  return { ctx, warnings };
}

async function resolvesTo(target: string, instanceId: string): Promise<void> {
  const h = await harness();
  const resolved = await resolveTarget(target, h.ctx);
  assert.equal(resolved.instanceId, instanceId, `${target} (via ${resolved.via})`);
  assert.deepEqual(h.warnings, [], `${target}: no warning`);
}

async function notFound(target: string): Promise<string> {
  let message = "";
  await assert.rejects(resolveTarget(target, (await harness()).ctx), (error: unknown) => {
    assert.ok(error instanceof TargetNotFoundError, `expected TargetNotFoundError, got ${String(error)}`);
    message = error.message;
    return true;
  });
  return message;
}

describe("resolveTarget against the emulator", () => {
  test("the emulator exports RUNAS_DNS_SERVERS for its DNS server", () => {
    assert.match(emulator.env[DNS_SERVERS_ENV] ?? "", /^127\.0\.0\.1:\d+$/);
  });

  test("instance id, tags and wildcards", async () => {
    await resolvesTo(INSTANCE.web, INSTANCE.web);
    await resolvesTo("Name:web", INSTANCE.web);
    await resolvesTo("Name:w?b", INSTANCE.web);
    await resolvesTo("Name:v6*", INSTANCE.ipv6Only);
  });

  test("IP literals: private, public, IPv6", async () => {
    await resolvesTo(ADDRESS.dbPrivate, INSTANCE.db);
    await resolvesTo(ADDRESS.webPublic, INSTANCE.web);
    await resolvesTo(ADDRESS.webIpv6, INSTANCE.web);
    await resolvesTo(ADDRESS.v6onlyIpv6, INSTANCE.ipv6Only);
  });

  test("DNS names: A (+AAAA of the same instance), private A, AAAA", async () => {
    await resolvesTo(DNS_NAME.web, INSTANCE.web);
    await resolvesTo(DNS_NAME.db, INSTANCE.db);
    await resolvesTo(DNS_NAME.v6, INSTANCE.ipv6Only);
  });

  test("DNS TXT with an i- id and with a mi- id", async () => {
    await resolvesTo(DNS_NAME.txtInstance, INSTANCE.web);
    await resolvesTo(DNS_NAME.txtManaged, INSTANCE.managed);
  });

  test("two running instances share a Name: the Online one wins over the newer one, with one warning", async () => {
    const h = await harness();
    const resolved = await resolveTarget("Name:worker", h.ctx);
    assert.equal(resolved.instanceId, INSTANCE.workerOnline);
    assert.deepEqual(resolved.others, [INSTANCE.workerLost]);
    assert.equal(h.warnings.length, 1);
    assert.match(
      h.warnings[0]!,
      new RegExp(`using ${INSTANCE.workerOnline} .*others: ${INSTANCE.workerLost}$`),
    );
  });

  test("a fleet bigger than several pages is read in full", async () => {
    const h = await harness(ALICE, 5);
    const last = FLEET_INSTANCE_IDS.at(-1)!;
    assert.equal((await resolveTarget(`Name:batch-${FLEET_INSTANCE_IDS.length}`, h.ctx)).instanceId, last);
    const resolved = await resolveTarget("fleet:batch", h.ctx);
    assert.deepEqual([resolved.instanceId, ...resolved.others].sort(), [...FLEET_INSTANCE_IDS].sort());
  });

  test("stopped instances are never chosen", async () => {
    assert.match(await notFound("Name:archive"), /tag Name=archive: 0 running/);
  });

  test("nothing matches: one line saying what was tried", async () => {
    assert.equal(
      await notFound("web:prod"),
      'no instance matches "web:prod" (tag web=prod: 0 running; not an IP address; DNS: not a host name; DNS TXT: not a host name)',
    );
    assert.equal(
      await notFound("nowhere.emu.internal"),
      'no instance matches "nowhere.emu.internal" (not a tag key:value; not an IP address; DNS: no A/AAAA record; DNS TXT: no record)',
    );
    assert.match(await notFound(DNS_NAME.txtNoId), /DNS TXT: no instance id in 1 record\)$/);
    assert.match(await notFound("10.0.0.300"), /not a valid IP address/);
  });

  test("access denied by the emulator surfaces as the AWS error", async () => {
    await assert.rejects(resolveTarget("Name:web", (await harness(CAROL)).ctx), (error: unknown) => {
      assert.ok(!(error instanceof TargetNotFoundError));
      assert.ok(error instanceof Error);
      assert.equal(error.name, "UnauthorizedOperation");
      assert.match(error.message, new RegExp(`${DEFAULT_ACCOUNT_ID}:user/carol`));
      return true;
    });
  });
});
