import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "@aws-runas/wire/log.js";
import { CredentialsError } from "../../packages/aws-runas/src/credentials/errors.js";
import { createMfaCodeSource, MFA_PROMPT } from "../../packages/aws-runas/src/credentials/mfa.js";
import { NoTerminalError } from "../../packages/aws-runas/src/credentials/tty-prompt.js";

const SERIAL = "arn:aws:iam::123456789012:mfa/alice";

describe("MFA codes", () => {
  test("a given code is used once, then the prompt is asked", async () => {
    const prompts: string[] = [];
    const source = createMfaCodeSource(
      " 111111 ",
      async (m) => {
        prompts.push(m);
        return "222222\n";
      },
      createLogger(0, () => {}),
    );
    assert.equal(await source(SERIAL), "111111");
    assert.deepEqual(prompts, []);
    assert.equal(await source(SERIAL), "222222");
    assert.deepEqual(prompts, [MFA_PROMPT]);
    assert.equal(MFA_PROMPT, "MFA token code: ");
  });

  test("codes are registered as secrets", async () => {
    const logger = createLogger(1, () => {});
    const source = createMfaCodeSource("135790", async () => "246802", logger);
    await source(SERIAL);
    await source(SERIAL);
    assert.equal(logger.redact("codes 135790 246802"), "codes **** ****");
  });

  test("no terminal and no code names MFA_CODE and -o", async () => {
    const source = createMfaCodeSource(
      undefined,
      async () => {
        throw new NoTerminalError("/dev/tty");
      },
      createLogger(0, () => {}),
    );
    await assert.rejects(source(SERIAL), (e: unknown) => {
      assert.ok(e instanceof CredentialsError);
      assert.equal(e.code, "CREDENTIALS_MFA_CODE_REQUIRED");
      assert.equal(e.message, `an MFA code is needed for ${SERIAL}`);
      assert.match(e.hint ?? "", /MFA_CODE/);
      assert.match(e.hint ?? "", /-o/);
      return true;
    });
  });

  test("an empty answer is an error", async () => {
    const source = createMfaCodeSource(
      "",
      async () => "  ",
      createLogger(0, () => {}),
    );
    await assert.rejects(
      source(SERIAL),
      (e: unknown) => e instanceof CredentialsError && e.code === "CREDENTIALS_MFA_CODE_EMPTY",
    );
  });

  test("a prompted code that is not 6 digits is refused before any AWS call, without echoing it", async () => {
    for (const answer of ["abc", "12345", "1234567", "12 456"]) {
      const source = createMfaCodeSource(
        undefined,
        async () => answer,
        createLogger(0, () => {}),
      );
      await assert.rejects(source(SERIAL), (e: unknown) => {
        assert.ok(e instanceof CredentialsError);
        assert.equal(e.code, "CREDENTIALS_MFA_CODE_INVALID");
        assert.ok(!e.message.includes(answer), e.message);
        assert.match(e.hint ?? "", /6-digit/);
        return true;
      });
    }
  });
});
