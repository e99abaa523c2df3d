import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
} from "@aws-sdk/client-sts";
import {
  ALICE,
  BOB,
  defaultFixture,
  PARTNER_EXTERNAL_ID,
  ROLE,
  type RunningEmulator,
} from "../../packages/emulator/src/index.js";
import {
  clientConfig,
  rejectsWith,
  startApiEmulator,
  type TestCredentials,
  totpCode,
  wrongCode,
} from "./api-helpers.js";

describe("STS", () => {
  let emu: RunningEmulator;
  const clients: STSClient[] = [];
  const sts = (credentials?: TestCredentials) => {
    const client = new STSClient(clientConfig(emu, credentials));
    clients.push(client);
    return client;
  };
  const fromResponse = (
    c: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } | undefined,
  ): TestCredentials => ({
    accessKeyId: c?.AccessKeyId ?? "",
    secretAccessKey: c?.SecretAccessKey ?? "",
    sessionToken: c?.SessionToken,
  });

  before(async () => {
    emu = await startApiEmulator();
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await emu.close();
  });

  test("GetCallerIdentity names the user behind long-term keys", async () => {
    const out = await sts().send(new GetCallerIdentityCommand({}));
    assert.equal(out.Arn, ALICE.arn);
    assert.equal(out.Account, "123456789012");
    assert.match(out.UserId ?? "", /^AIDA[A-Z2-7]{17}$/);
  });

  test("GetSessionToken without MFA issues ASIA credentials that work until they expire", async () => {
    const out = await sts().send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    const creds = fromResponse(out.Credentials);
    assert.match(creds.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.ok((creds.sessionToken ?? "").length > 100);
    const expires = out.Credentials?.Expiration?.getTime() ?? 0;
    assert.ok(
      Math.abs(expires - (emu.clock.now() + 900_000)) < 5_000,
      "expiry is 900 s ahead on the emulator clock",
    );
    const who = await sts(creds).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, ALICE.arn);
    emu.clock.advance(901);
    const err = await rejectsWith(sts(creds).send(new GetCallerIdentityCommand({})), "ExpiredToken");
    assert.equal(err.$metadata?.httpStatusCode, 400);
  });

  test("GetSessionToken with a valid TOTP code; a wrong code is AccessDenied", async () => {
    const ok = await sts().send(
      new GetSessionTokenCommand({
        SerialNumber: ALICE.mfaSerial,
        TokenCode: totpCode(emu),
        DurationSeconds: 3600,
      }),
    );
    assert.ok(ok.Credentials?.AccessKeyId);
    // The previous step is still accepted (clock drift allowance of one step).
    await sts().send(
      new GetSessionTokenCommand({ SerialNumber: ALICE.mfaSerial, TokenCode: totpCode(emu, undefined, -1) }),
    );
    const err = await rejectsWith(
      sts().send(new GetSessionTokenCommand({ SerialNumber: ALICE.mfaSerial, TokenCode: wrongCode(emu) })),
      "AccessDenied",
    );
    assert.match(err.message, /invalid MFA one time pass code/);
    await rejectsWith(
      sts().send(
        new GetSessionTokenCommand({
          SerialNumber: "arn:aws:iam::123456789012:mfa/bob",
          TokenCode: totpCode(emu),
        }),
      ),
      "AccessDenied",
    );
  });

  test("GetSessionToken duration limits and session credentials", async () => {
    for (const DurationSeconds of [899, 129601]) {
      const err = await rejectsWith(
        sts().send(new GetSessionTokenCommand({ DurationSeconds })),
        "ValidationError",
      );
      assert.match(err.message, /durationSeconds/);
    }
    await sts().send(new GetSessionTokenCommand({ DurationSeconds: 129600 }));
    const temp = fromResponse((await sts().send(new GetSessionTokenCommand({}))).Credentials);
    const err = await rejectsWith(sts(temp).send(new GetSessionTokenCommand({})), "AccessDenied");
    assert.match(err.message, /session credentials/);
  });

  test("AssumeRole admin (no MFA) returns assumed-role credentials", async () => {
    const out = await sts().send(
      new AssumeRoleCommand({ RoleArn: ROLE.admin.arn, RoleSessionName: "alice-test" }),
    );
    assert.equal(out.AssumedRoleUser?.Arn, "arn:aws:sts::123456789012:assumed-role/admin/alice-test");
    assert.match(out.AssumedRoleUser?.AssumedRoleId ?? "", /^AROA[A-Z2-7]{17}:alice-test$/);
    const who = await sts(fromResponse(out.Credentials)).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, out.AssumedRoleUser?.Arn);
    assert.equal(who.UserId, out.AssumedRoleUser?.AssumedRoleId);
  });

  test("AssumeRole duration: up to the role maximum, ValidationError beyond it", async () => {
    await sts().send(
      new AssumeRoleCommand({ RoleArn: ROLE.admin.arn, RoleSessionName: "long", DurationSeconds: 43200 }),
    );
    const err = await rejectsWith(
      sts().send(
        new AssumeRoleCommand({
          RoleArn: ROLE.partner.arn,
          RoleSessionName: "p1",
          DurationSeconds: 7200,
          ExternalId: PARTNER_EXTERNAL_ID,
        }),
      ),
      "ValidationError",
    );
    assert.match(err.message, /MaxSessionDuration/);
    await rejectsWith(
      sts().send(
        new AssumeRoleCommand({ RoleArn: ROLE.admin.arn, RoleSessionName: "short", DurationSeconds: 600 }),
      ),
      "ValidationError",
    );
  });

  test("AssumeRole of an MFA role: denied without MFA, allowed with a code or MFA'd session credentials", async () => {
    const denied = await rejectsWith(
      sts().send(new AssumeRoleCommand({ RoleArn: ROLE.adminMfa.arn, RoleSessionName: "m1" })),
      "AccessDenied",
    );
    assert.match(denied.message, /not authorized to perform: sts:AssumeRole on resource: .*role\/admin-mfa/);
    assert.equal(denied.$metadata?.httpStatusCode, 403);
    await rejectsWith(
      sts().send(
        new AssumeRoleCommand({
          RoleArn: ROLE.adminMfa.arn,
          RoleSessionName: "m1",
          SerialNumber: ALICE.mfaSerial,
          TokenCode: wrongCode(emu),
        }),
      ),
      "AccessDenied",
    );
    const direct = await sts().send(
      new AssumeRoleCommand({
        RoleArn: ROLE.adminMfa.arn,
        RoleSessionName: "m1",
        SerialNumber: ALICE.mfaSerial,
        TokenCode: totpCode(emu),
      }),
    );
    assert.ok(direct.Credentials?.AccessKeyId?.startsWith("ASIA"));

    // aws-runas' short-role flow: GetSessionToken with MFA, then AssumeRole without it.
    const withMfa = fromResponse(
      (
        await sts().send(
          new GetSessionTokenCommand({ SerialNumber: ALICE.mfaSerial, TokenCode: totpCode(emu) }),
        )
      ).Credentials,
    );
    const chained = await sts(withMfa).send(
      new AssumeRoleCommand({ RoleArn: ROLE.adminMfa.arn, RoleSessionName: "m2" }),
    );
    assert.equal(chained.AssumedRoleUser?.Arn, "arn:aws:sts::123456789012:assumed-role/admin-mfa/m2");
    // Session credentials obtained without MFA do not count.
    const noMfa = fromResponse((await sts().send(new GetSessionTokenCommand({}))).Credentials);
    await rejectsWith(
      sts(noMfa).send(new AssumeRoleCommand({ RoleArn: ROLE.adminMfa.arn, RoleSessionName: "m3" })),
      "AccessDenied",
    );
  });

  test("AssumeRole of the partner role checks the external id", async () => {
    await rejectsWith(
      sts().send(new AssumeRoleCommand({ RoleArn: ROLE.partner.arn, RoleSessionName: "p1" })),
      "AccessDenied",
    );
    await rejectsWith(
      sts().send(
        new AssumeRoleCommand({ RoleArn: ROLE.partner.arn, RoleSessionName: "p1", ExternalId: "wrong-id" }),
      ),
      "AccessDenied",
    );
    const ok = await sts().send(
      new AssumeRoleCommand({
        RoleArn: ROLE.partner.arn,
        RoleSessionName: "p1",
        ExternalId: PARTNER_EXTERNAL_ID,
      }),
    );
    assert.equal(ok.AssumedRoleUser?.Arn, "arn:aws:sts::123456789012:assumed-role/partner/p1");
  });

  test("AssumeRole refuses untrusted callers and unknown roles", async () => {
    await rejectsWith(
      sts(BOB).send(new AssumeRoleCommand({ RoleArn: ROLE.admin.arn, RoleSessionName: "b1" })),
      "AccessDenied",
    );
    await rejectsWith(
      sts().send(
        new AssumeRoleCommand({ RoleArn: "arn:aws:iam::123456789012:role/nope", RoleSessionName: "a1" }),
      ),
      "AccessDenied",
    );
    await rejectsWith(
      sts().send(new AssumeRoleCommand({ RoleArn: ROLE.admin.arn, RoleSessionName: "bad name!" })),
      "ValidationError",
    );
  });

  test("role chaining needs a trusting role and is limited to one hour", async () => {
    const admin = fromResponse(
      (await sts().send(new AssumeRoleCommand({ RoleArn: ROLE.admin.arn, RoleSessionName: "a1" })))
        .Credentials,
    );
    // In the default fixture no role trusts another role.
    await rejectsWith(
      sts(admin).send(
        new AssumeRoleCommand({
          RoleArn: ROLE.partner.arn,
          RoleSessionName: "b1",
          ExternalId: PARTNER_EXTERNAL_ID,
        }),
      ),
      "AccessDenied",
    );

    const fixture = defaultFixture();
    const partner = fixture.roles.find((r) => r.roleName === ROLE.partner.name);
    partner?.trust.principals.push(ROLE.admin.arn);
    const other = await startApiEmulator({ fixture });
    const client = new STSClient(clientConfig(other));
    try {
      const base = fromResponse(
        (await client.send(new AssumeRoleCommand({ RoleArn: ROLE.admin.arn, RoleSessionName: "a1" })))
          .Credentials,
      );
      const chained = new STSClient(clientConfig(other, base));
      clients.push(chained);
      const input = { RoleArn: ROLE.partner.arn, RoleSessionName: "b1", ExternalId: PARTNER_EXTERNAL_ID };
      const ok = await chained.send(new AssumeRoleCommand(input));
      assert.equal(ok.AssumedRoleUser?.Arn, "arn:aws:sts::123456789012:assumed-role/partner/b1");
      // partner's own maximum is 1 h too, so raise it to see the chaining limit itself.
      if (partner) partner.maxSessionDurationSeconds = 43200;
      const err = await rejectsWith(
        chained.send(new AssumeRoleCommand({ ...input, DurationSeconds: 7200 })),
        "ValidationError",
      );
      assert.match(err.message, /role chaining/);
    } finally {
      client.destroy();
      await other.close();
    }
  });

  test("wrong secret is SignatureDoesNotMatch, unknown key is InvalidClientTokenId", async () => {
    const bad = await rejectsWith(
      sts({ accessKeyId: ALICE.accessKeyId, secretAccessKey: "not-the-secret" }).send(
        new GetCallerIdentityCommand({}),
      ),
      "SignatureDoesNotMatch",
    );
    assert.equal(bad.$metadata?.httpStatusCode, 403);
    const unknown = await rejectsWith(
      sts({ accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: "x" }).send(
        new GetCallerIdentityCommand({}),
      ),
      "InvalidClientTokenId",
    );
    assert.equal(unknown.$metadata?.httpStatusCode, 403);
    const temp = fromResponse((await sts().send(new GetSessionTokenCommand({}))).Credentials);
    await rejectsWith(
      sts({ ...temp, sessionToken: `${temp.sessionToken}x` }).send(new GetCallerIdentityCommand({})),
      "InvalidClientTokenId",
    );
  });
});
