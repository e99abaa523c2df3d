import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { tryParseRoleArn } from "../../packages/aws-runas/src/config/role-arn.js";
import {
  arnCacheName,
  cacheFilePath,
  deleteCacheFile,
  EXPIRY_MARGIN_MS,
  formatCacheText,
  isFresh,
  parseCacheText,
  readCacheFile,
  writeCacheFile,
} from "../../packages/aws-runas/src/credentials/cache.js";

const creds = {
  accessKeyId: "ASIAEXAMPLE",
  secretAccessKey: "secret/with+chars",
  sessionToken: "token==",
  expiration: new Date("2030-01-02T03:04:05.678Z"),
};

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "runas-cache-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("cache file names", () => {
  test("next to the config file", () => {
    assert.equal(
      cacheFilePath("/home/u/.aws/config", "session_token", "base"),
      "/home/u/.aws/.aws_session_token_base",
    );
    assert.equal(
      cacheFilePath("/home/u/.aws/config", "assume_role", "admin"),
      "/home/u/.aws/.aws_assume_role_admin",
    );
  });

  test("a role ARN uses <account>-<role name>", () => {
    const arn = tryParseRoleArn("arn:aws:iam::123456789012:role/path/to/Deploy")!;
    assert.equal(arnCacheName(arn), "123456789012-Deploy");
    assert.equal(
      cacheFilePath("/c/config", "assume_role", arnCacheName(arn)),
      "/c/.aws_assume_role_123456789012-Deploy",
    );
  });

  test("a profile name with / stays in the directory", () => {
    assert.equal(cacheFilePath("/c/config", "assume_role", "team/dev"), "/c/.aws_assume_role_team_dev");
  });
});

describe("cache format", () => {
  test("one JSON line in aws-runas field order with an RFC 3339 time", () => {
    assert.equal(
      formatCacheText(creds),
      '{"AccessKeyId":"ASIAEXAMPLE","Expiration":"2030-01-02T03:04:05Z","SecretAccessKey":"secret/with+chars","SessionToken":"token=="}',
    );
  });

  test("reads what aws-runas (Go) writes: nanoseconds and offsets", () => {
    const parsed = parseCacheText(
      '{"AccessKeyId":"A","Expiration":"2030-01-02T05:04:05.123456789+02:00","SecretAccessKey":"S","SessionToken":"T","ProviderName":"x"}',
    );
    assert.deepEqual(parsed, {
      accessKeyId: "A",
      secretAccessKey: "S",
      sessionToken: "T",
      expiration: new Date("2030-01-02T03:04:05.123Z"),
    });
  });

  test("rejects incomplete or malformed content", () => {
    for (const bad of [
      "",
      "not json",
      "null",
      "[]",
      '{"AccessKeyId":"A","SecretAccessKey":"S","SessionToken":"T"}',
      '{"AccessKeyId":"A","Expiration":"tomorrow","SecretAccessKey":"S","SessionToken":"T"}',
      '{"AccessKeyId":"A","Expiration":"2030-01-02 03:04:05","SecretAccessKey":"S","SessionToken":"T"}',
      '{"AccessKeyId":"","Expiration":"2030-01-02T03:04:05Z","SecretAccessKey":"S","SessionToken":"T"}',
      '{"AccessKeyId":"A","Expiration":"2030-01-02T03:04:05Z","SecretAccessKey":"S"}',
    ]) {
      assert.equal(parseCacheText(bad), undefined, bad);
    }
  });

  test("freshness keeps a five-minute safety margin", () => {
    const exp = creds.expiration.getTime();
    const margin = 5 * 60 * 1000;
    assert.equal(EXPIRY_MARGIN_MS, margin);
    assert.equal(isFresh(creds, exp - margin - 1), true);
    assert.equal(isFresh(creds, exp - margin), false);
    assert.equal(isFresh(creds, exp + 1), false);
    assert.equal(isFresh({}, exp * 2), true);
  });
});

describe("cache files", () => {
  test("write, read back, mode 0600, no temp files left", async () => {
    const path = join(dir, ".aws_assume_role_rw");
    const oldMask = process.umask(0o000);
    try {
      await writeCacheFile(path, creds);
    } finally {
      process.umask(oldMask);
    }
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readCacheFile(path), { ...creds, expiration: new Date("2030-01-02T03:04:05Z") });
    const text = await readFile(path, "utf8");
    assert.equal(text.split("\n").length, 2);
    assert.ok(text.endsWith("}\n"));
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.includes(".tmp")),
      [],
    );
  });

  test("replacing an existing, world-readable file makes it 0600", async () => {
    const path = join(dir, ".aws_session_token_replace");
    await writeFile(path, "old", { mode: 0o644 });
    await writeCacheFile(path, creds);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await readCacheFile(path))?.accessKeyId, "ASIAEXAMPLE");
  });

  test("concurrent writers never leave a torn file", async () => {
    const path = join(dir, ".aws_assume_role_race");
    const writers = Array.from({ length: 20 }, (_, i) =>
      writeCacheFile(path, { ...creds, accessKeyId: `ASIA${String(i).padStart(4, "0")}` }),
    );
    await Promise.all(writers);
    const read = await readCacheFile(path);
    assert.match(read?.accessKeyId ?? "", /^ASIA\d{4}$/);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.includes(".tmp")),
      [],
    );
  });

  test("missing or corrupt files read as nothing; delete tolerates missing files", async () => {
    assert.equal(await readCacheFile(join(dir, "nope")), undefined);
    const corrupt = join(dir, ".aws_assume_role_corrupt");
    await writeFile(corrupt, '{"AccessKeyId":');
    assert.equal(await readCacheFile(corrupt), undefined);
    await deleteCacheFile(corrupt);
    await deleteCacheFile(corrupt);
    await assert.rejects(stat(corrupt), { code: "ENOENT" });
  });

  test("writing into a missing directory fails (the flow then just logs it)", async () => {
    await assert.rejects(writeCacheFile(join(dir, "no-such-dir", ".aws_assume_role_x"), creds));
  });
});
