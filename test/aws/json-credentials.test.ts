import assert from "node:assert/strict";
import { test } from "node:test";
import { credentialSource } from "../../packages/aws-runas/src/aws/json/credentials.js";

const key = (id: string, expiresAt?: number) => ({
  accessKeyId: id,
  secretAccessKey: "s",
  ...(expiresAt === undefined ? {} : { expiration: new Date(expiresAt) }),
});

test("fixed credentials are used as they are", async () => {
  const fixed = key("AKIAFIXED");
  assert.equal(await credentialSource(fixed, false)(), fixed);
});

test("a provider's answer is kept until five minutes before it expires", async () => {
  let now = 0;
  let asked = 0;
  const source = credentialSource(
    async () => key(`AKIA${++asked}`, 10 * 60_000),
    false,
    () => now,
  );
  assert.equal((await source()).accessKeyId, "AKIA1");
  now = 4 * 60_000;
  assert.equal((await source()).accessKeyId, "AKIA1");
  now = 5 * 60_000 + 1;
  assert.equal((await source()).accessKeyId, "AKIA2");
  assert.equal(asked, 2);
});

test("credentials without an expiry are asked for once; with a renewer, on every call", async () => {
  let asked = 0;
  const kept = credentialSource(async () => key(`AKIA${++asked}`), false);
  await kept();
  await kept();
  assert.equal(asked, 1);
  const fresh = credentialSource(async () => key(`AKIA${++asked}`), true);
  await fresh();
  await fresh();
  assert.equal(asked, 3);
});
