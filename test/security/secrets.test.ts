/**
 * Issue #11: secrets never reach the terminal. Every session command (`ssm shell` piped,
 * `ssm forward` used briefly, `ssm ssh` with stdin closed) runs with `-vv` for the profiles
 * `plain`, `role` and `role-mfa` (MFA_CODE) against an in-process emulator that records every
 * secret it hands out; then all stdout/stderr of the built CLI is scanned for each of them: the
 * fixture's secret keys, every issued secret key and session token (also read back from the
 * credential cache files), every TokenValue (StartSession and ResumeSession) and the MFA codes.
 * Cache files and the emulator's generated config/credentials are mode 0600, and error messages
 * never echo secret environment values.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createLogger, type Logger } from "@aws-runas/wire/log.js";
import { Secret, TOTP } from "otpauth";
import { ALICE, BOB, INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { type RunningEmulator, SessionRegistry, startEmulator } from "../../packages/emulator/src/index.js";
import { runCli } from "../e2e/helpers/harness.js";
import {
  assertNoChildProcesses,
  ensureBuilt,
  startEchoServer,
  startForward,
  type TestServer,
} from "../reliability/helpers.js";

/** Every secret value handed out while the tests run (the emulator's logger learns them all). */
const issued = new Set<string>();
/** Every MFA code used (6 digits: matched as a whole token only). */
const mfaCodes = new Set<string>();
/** Everything the CLI printed, with the command that printed it. */
const transcripts: Array<{ what: string; text: string }> = [];

// Session tokens are created and rotated inside the registry: record each one it returns.
for (const method of ["create", "rotateToken"] as const) {
  const original = SessionRegistry.prototype[method] as (...args: unknown[]) => unknown;
  (SessionRegistry.prototype as unknown as Record<string, unknown>)[method] = function (
    this: SessionRegistry,
    ...args: unknown[]
  ) {
    const result = original.apply(this, args);
    const token = typeof result === "string" ? result : (result as { token?: string } | undefined)?.token;
    if (token) issued.add(token);
    return result;
  };
}

/** The emulator's logger at -vv: it is told every secret it issues (and redacts them itself). */
function recordingLogger(lines: string[]): Logger {
  const inner = createLogger(2, (line) => lines.push(line));
  return {
    ...inner,
    addSecret(value) {
      if (value) issued.add(value);
      inner.addSecret(value);
    },
  };
}

function totp(): string {
  const code = new TOTP({ secret: Secret.fromBase32(ALICE.mfaSecretBase32) }).generate();
  mfaCodes.add(code);
  return code;
}

function record(what: string, r: { stdout: string; stderr: string }): void {
  transcripts.push({ what, text: `${r.stdout}\n${r.stderr}` });
}

/** Where `secret` (or a 16-character piece of a long one) shows up in `text`, if anywhere. */
function leak(text: string, secret: string): string | undefined {
  if (/^\d{6}$/.test(secret)) {
    const m = new RegExp(`(?<![0-9A-Za-z])${secret}(?![0-9A-Za-z])`).exec(text);
    return m ? text.slice(Math.max(0, m.index - 60), m.index + 66) : undefined;
  }
  const pieces = secret.length < 24 ? [secret] : [];
  for (let i = 0; i + 16 <= secret.length && secret.length >= 24; i += 8)
    pieces.push(secret.slice(i, i + 16));
  for (const piece of pieces) {
    const at = text.indexOf(piece);
    if (at >= 0) return text.slice(Math.max(0, at - 60), at + piece.length + 60);
  }
  return undefined;
}

/** Secrets in the aws-runas credential cache files next to the config file. */
function cachedSecrets(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(".aws_")) continue;
    const data = JSON.parse(readFileSync(join(dir, name), "utf8")) as Record<string, string>;
    for (const key of ["SecretAccessKey", "SessionToken"]) if (data[key]) out.push(data[key]);
  }
  return out;
}

const PROFILES = ["plain", "role", "role-mfa"] as const;

/** Every process these tests start is gone once the suites closed them. */
after(assertNoChildProcesses);

describe("no secret in any output (-vv, every command, every profile kind)", () => {
  let emulator: RunningEmulator;
  let echo: TestServer;
  let env: NodeJS.ProcessEnv;
  const emulatorLog: string[] = [];

  before(async () => {
    ensureBuilt();
    // A drop now and then makes the CLI resume, so rotated TokenValues are in play too.
    emulator = await startEmulator({
      logger: recordingLogger(emulatorLog),
      faults: { dropWebsocketAfter: 30 },
    });
    echo = await startEchoServer();
    env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", ...emulator.env };
  });
  after(async () => {
    await echo?.close();
    await emulator?.close();
  });

  function profileEnv(profile: string): NodeJS.ProcessEnv {
    return profile === "role-mfa" ? { ...env, MFA_CODE: totp() } : env;
  }

  for (const profile of PROFILES) {
    test(`ssm shell ${profile} (piped)`, async () => {
      const r = await runCli(["-vv", "ssm", "shell", profile, INSTANCE.web], {
        env: profileEnv(profile),
        input: "seq 1 3000\necho secrets-check-done\nexit\n",
      });
      record(`shell ${profile}`, r);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /secrets-check-done/);
    });

    test(`ssm forward ${profile} (one connection, then Ctrl-C)`, async (t) => {
      const forward = await startForward(profileEnv(profile), profile, `${INSTANCE.web}:${echo.port}`, [
        "-vv",
      ]);
      t.after(() => forward.stop());
      const socket = connect(forward.port, "127.0.0.1");
      t.after(() => socket.destroy());
      const payload = Buffer.alloc(64 * 1024, 0x5a);
      socket.write(payload);
      let got = 0;
      for await (const chunk of socket) {
        got += (chunk as Buffer).length;
        if (got >= payload.length) break;
      }
      const { code } = await forward.stop();
      record(`forward ${profile}`, { stdout: "", stderr: forward.stderr() });
      assert.equal(code, 0, forward.stderr());
    });

    test(`ssm ssh ${profile} (stdin closed)`, async () => {
      const r = await runCli(["-vv", "ssm", "ssh", profile, `ec2-user@${INSTANCE.web}:${echo.port}`], {
        env: profileEnv(profile),
        input: "",
      });
      record(`ssh ${profile}`, r);
      assert.equal(r.signal, null, r.stderr);
    });
  }

  test("error messages never echo secret environment values", async () => {
    const marker = `MarkerSecret${Date.now()}/abcdefghijklmnopqrstuv`;
    const tokenMarker = `MarkerToken${Date.now()}abcdefghijklmnopqrstuvwxyz0123456789`;
    const cases: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
      [
        "wrong secret key",
        { AWS_ACCESS_KEY_ID: ALICE.accessKeyId, AWS_SECRET_ACCESS_KEY: marker },
        /signature|SignatureDoesNotMatch/i,
      ],
      [
        "unknown key with a session token",
        {
          AWS_ACCESS_KEY_ID: "ASIAEMULATORUNKNOWN1",
          AWS_SECRET_ACCESS_KEY: marker,
          AWS_SESSION_TOKEN: tokenMarker,
        },
        /token|invalid|not valid|unrecognized/i,
      ],
    ];
    for (const [what, extra, expected] of cases) {
      const r = await runCli(["-vv", "ssm", "shell", INSTANCE.web], {
        env: { ...env, AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null", ...extra },
        input: "exit\n",
      });
      record(`env credentials: ${what}`, r);
      assert.notEqual(r.code, 0, `${what}: ${r.stderr}`);
      assert.match(r.stderr, expected, what);
      assert.equal(leak(r.stdout + r.stderr, marker), undefined, `${what}: the secret key is echoed`);
      assert.equal(leak(r.stdout + r.stderr, tokenMarker), undefined, `${what}: the session token is echoed`);
    }
    // A wrong MFA code, with a fresh copy of the profiles (no cached session token to fall back on).
    const fresh = mkdtempSync(join(tmpdir(), "runas-secrets-"));
    try {
      copyFileSync(emulator.env.AWS_CONFIG_FILE!, join(fresh, "config"));
      copyFileSync(emulator.env.AWS_SHARED_CREDENTIALS_FILE!, join(fresh, "credentials"));
      const valid = totp();
      const wrongCode = valid === "000000" ? "000001" : "000000";
      const r = await runCli(["-vv", "ssm", "shell", "role-mfa", INSTANCE.web], {
        env: {
          ...env,
          AWS_CONFIG_FILE: join(fresh, "config"),
          AWS_SHARED_CREDENTIALS_FILE: join(fresh, "credentials"),
          MFA_CODE: wrongCode,
        },
        input: "exit\n",
      });
      record("wrong MFA code", r);
      assert.notEqual(r.code, 0, r.stderr);
      assert.match(r.stderr, /access ?denied|MFA/i);
      assert.equal(leak(r.stdout + r.stderr, wrongCode), undefined, "the MFA code is echoed");
      mfaCodes.add(wrongCode);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  test("scan: no recorded secret appears in any output", (t) => {
    const dir = join(emulator.env.AWS_CONFIG_FILE!, "..");
    const secrets = new Set<string>([
      ALICE.secretAccessKey,
      BOB.secretAccessKey,
      ALICE.mfaSecretBase32,
      ...issued,
      ...cachedSecrets(dir),
      ...mfaCodes,
    ]);
    // Sanity: the scan has something to find (fixture keys, STS credentials, TokenValues, MFA).
    assert.ok(issued.size >= 10, `recorded ${issued.size} issued secrets`);
    assert.ok(cachedSecrets(dir).length >= 2, "the cache files hold credentials");
    assert.ok(transcripts.length >= PROFILES.length * 3, "every command ran");
    const resumes = emulator.requestLog.entries().filter((e) => e.operation === "ResumeSession").length;
    assert.ok(resumes >= 1, "some sessions resumed, so rotated TokenValues are covered");
    const leaks: string[] = [];
    for (const { what, text } of [...transcripts, { what: "emulator log", text: emulatorLog.join("\n") }]) {
      for (const secret of secrets) {
        const where = leak(text, secret);
        if (where) leaks.push(`${what}: ${JSON.stringify(where)}`);
      }
    }
    assert.deepEqual(leaks, []);
    const bytes = transcripts.reduce((n, x) => n + x.text.length, 0);
    t.diagnostic(
      `${secrets.size} secrets (${resumes} resumes), ${transcripts.length} transcripts (${bytes} bytes) scanned`,
    );
  });

  test("cache files and the emulator's generated config/credentials are mode 0600", () => {
    const dir = join(emulator.env.AWS_CONFIG_FILE!, "..");
    const files = [
      emulator.env.AWS_CONFIG_FILE!,
      emulator.env.AWS_SHARED_CREDENTIALS_FILE!,
      ...readdirSync(dir)
        .filter((n) => n.startsWith(".aws_"))
        .map((n) => join(dir, n)),
    ];
    assert.ok(files.length >= 4, `config, credentials and cache files: ${files.join(", ")}`);
    for (const file of files) {
      assert.equal((statSync(file).mode & 0o777).toString(8), "600", file);
    }
  });
});

/**
 * Issue 14 item 8: redaction hides values — JSON members, `key=value` fields, registered
 * secrets — and never eats prose: `STS GetSessionToken: …` keeps its words.
 */
describe("redaction: values, never prose", () => {
  const REGISTERED = "registeredSecretValue/0123456789";
  const cases: [string, string][] = [
    // prose stays exactly as written (the messages users used to get with words eaten)
    [
      "aws-runas: STS GetSessionToken: cannot reach the AWS endpoint (ECONNREFUSED)",
      "aws-runas: STS GetSessionToken: cannot reach the AWS endpoint (ECONNREFUSED)",
    ],
    [
      "aws-runas: STS GetSessionToken: access denied: MultiFactorAuthentication failed with invalid MFA one time pass code.",
      "aws-runas: STS GetSessionToken: access denied: MultiFactorAuthentication failed with invalid MFA one time pass code.",
    ],
    [
      "aws-runas: STS GetSessionToken: the AWS endpoint URL is not valid",
      "aws-runas: STS GetSessionToken: the AWS endpoint URL is not valid",
    ],
    ["debug: aws: STS GetSessionToken -> 200 in 5 ms", "debug: aws: STS GetSessionToken -> 200 in 5 ms"],
    ["the SessionToken field is missing", "the SessionToken field is missing"],
    // JSON members
    [
      '{"SessionToken":"FwoGZXIvYXdzE","AccessKeyId":"ASIA1"}',
      '{"SessionToken":"****","AccessKeyId":"ASIA1"}',
    ],
    ['{"SecretAccessKey": "abc/def+ghi"}', '{"SecretAccessKey": "****"}'],
    ['{"TokenValue":"tv-123456789"}', '{"TokenValue":"****"}'],
    ['{"Plaintext":"AAECAwQFBgc="}', '{"Plaintext":"****"}'],
    ['"{\\"SessionToken\\":\\"FwoGZXIvYXdzE\\"}"', '"{\\"SessionToken\\":\\"****\\"}"'],
    // key=value fields
    [
      "Action=GetSessionToken&TokenCode=123456&Version=2011-06-15",
      "Action=GetSessionToken&TokenCode=****&Version=2011-06-15",
    ],
    ["aws_secret_access_key = abcdEFGH/1234", "aws_secret_access_key = ****"],
    ["aws_session_token=FwoGZXIvYXdzE", "aws_session_token=****"],
    ["x-amz-security-token: FwoGZXIvYXdzE", "x-amz-security-token: ****"],
    // registered secrets, wherever they are
    [`cannot use ${REGISTERED} here`, "cannot use **** here"],
    [`GetSessionToken: ${REGISTERED}`, "GetSessionToken: ****"],
    // a short secret (an MFA code) only as a whole token: not inside an account id
    [
      "the current code of arn:aws:iam::123456789012:mfa/alice",
      "the current code of arn:aws:iam::123456789012:mfa/alice",
    ],
    ["MFA code 123456 was rejected", "MFA code **** was rejected"],
    ["TokenCode:123456,", "TokenCode:****,"],
  ];
  const logger = createLogger(0, () => {});
  logger.addSecret(REGISTERED);
  logger.addSecret("123456");
  for (const [input, expected] of cases) {
    test(JSON.stringify(input), () => {
      assert.equal(logger.redact(input), expected);
    });
  }
});
