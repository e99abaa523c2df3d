import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { AwsError } from "@aws-runas/wire/errors.js";
import { createLogger } from "@aws-runas/wire/log.js";
import { resolveCredentials } from "../../packages/aws-runas/src/credentials/resolve.js";

describe("the real SDK provider bridge", () => {
  test("credential_process profiles work through the SDK's fromProcess", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "runas-sdkprov-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const expiration = new Date(Date.now() + 3600_000).toISOString();
    const output = JSON.stringify({
      Version: 1,
      AccessKeyId: "ASIAPROCESS",
      SecretAccessKey: "process-secret",
      SessionToken: "process-token",
      Expiration: expiration,
    });
    await writeFile(join(dir, "creds.json"), output);
    await writeFile(
      join(dir, "config"),
      `[profile proc]\nregion = eu-north-1\ncredential_process = cat ${join(dir, "creds.json")}\n\n` +
        `[profile broken]\ncredential_process = false\n`,
    );
    const env = { AWS_CONFIG_FILE: join(dir, "config"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "none") };
    const logger = createLogger(1, () => {});
    const out = await resolveCredentials(
      { profile: "proc", env },
      { logger, stsFactory: () => assert.fail("no STS call expected") },
    );
    assert.equal(out.credentials.accessKeyId, "ASIAPROCESS");
    assert.equal(out.credentials.expiration?.toISOString(), expiration);
    assert.equal(out.region, "eu-north-1");
    assert.equal(logger.redact("process-token process-secret"), "**** ****");

    await assert.rejects(resolveCredentials({ profile: "broken", env }, { logger }), (e: unknown) => {
      assert.ok(e instanceof AwsError);
      assert.match(e.message, /^profile "broken": /);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  });
});
