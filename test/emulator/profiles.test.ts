import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromIni } from "@aws-sdk/credential-providers";
import { ALICE, BOB, type RunningEmulator } from "../../packages/emulator/src/index.js";
import { startApiEmulator, totpCode } from "./api-helpers.js";

describe("generated config and credentials files", () => {
  let emu: RunningEmulator;
  before(async () => {
    emu = await startApiEmulator();
  });
  after(async () => {
    await emu.close();
  });

  async function whoAmI(
    profile: string,
    mfaCodeProvider?: (serial: string) => Promise<string>,
  ): Promise<string | undefined> {
    const credentials = fromIni({
      profile,
      filepath: emu.env.AWS_SHARED_CREDENTIALS_FILE,
      configFilepath: emu.env.AWS_CONFIG_FILE,
      mfaCodeProvider,
      clientConfig: { endpoint: emu.endpointUrl, region: emu.fixture.region },
    });
    const sts = new STSClient({
      endpoint: emu.endpointUrl,
      region: emu.fixture.region,
      credentials,
      maxAttempts: 1,
    });
    try {
      return (await sts.send(new GetCallerIdentityCommand({}))).Arn;
    } finally {
      sts.destroy();
    }
  }

  test("env names the files; both are private (0600)", async () => {
    assert.equal(emu.env.AWS_ENDPOINT_URL, emu.endpointUrl);
    assert.equal(emu.env.AWS_REGION, "us-east-1");
    assert.equal(emu.env.RUNAS_EMULATOR_STATE_DIR, emu.stateDir);
    for (const file of [emu.env.AWS_CONFIG_FILE, emu.env.AWS_SHARED_CREDENTIALS_FILE]) {
      assert.ok(file?.startsWith(emu.stateDir));
      assert.equal((await stat(file ?? "")).mode & 0o777, 0o600);
    }
    const config = await readFile(emu.env.AWS_CONFIG_FILE ?? "", "utf8");
    assert.match(
      config,
      /\[profile role-mfa\]\nrole_arn = arn:aws:iam::123456789012:role\/admin-mfa\nsource_profile = plain\nmfa_serial = arn:aws:iam::123456789012:mfa\/alice\n/,
    );
  });

  test("key profiles: default, plain and bob", async () => {
    assert.equal(await whoAmI("default"), ALICE.arn);
    assert.equal(await whoAmI("plain"), ALICE.arn);
    assert.equal(await whoAmI("bob"), BOB.arn);
  });

  test("role profiles work through the SDK's own role provider", async () => {
    assert.match((await whoAmI("role")) ?? "", /^arn:aws:sts::123456789012:assumed-role\/admin\//);
    assert.match((await whoAmI("partner")) ?? "", /^arn:aws:sts::123456789012:assumed-role\/partner\//);
    const serials: string[] = [];
    const arn = await whoAmI("role-mfa", async (serial) => {
      serials.push(serial);
      return totpCode(emu);
    });
    assert.match(arn ?? "", /^arn:aws:sts::123456789012:assumed-role\/admin-mfa\//);
    assert.deepEqual(serials, [ALICE.mfaSerial]);
  });
});
