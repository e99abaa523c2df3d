/** Shared helpers for the emulator API tests: client configs and TOTP codes. */
import { generateKeyPairSync } from "node:crypto";
import * as OTPAuth from "otpauth";
import {
  ALICE,
  type RunningEmulator,
  type StartEmulatorOptions,
  startEmulator,
} from "../../packages/emulator/src/index.js";

/**
 * An in-process emulator with only the API server (no websocket gateway, no DNS), so
 * these tests depend on nothing but the code they test.
 */
export function startApiEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ gateway: false, dns: false, ...options });
}

/** Static credentials for SDK clients. */
export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** SDK client configuration pointing at the emulator (no retries, so errors surface at once). */
export function clientConfig(emulator: RunningEmulator, credentials: TestCredentials = ALICE) {
  return {
    endpoint: emulator.endpointUrl,
    region: emulator.fixture.region,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
    maxAttempts: 1,
  };
}

/** The TOTP code of a base32 secret at the emulator's current time (plus `stepOffset` periods). */
export function totpCode(
  emulator: RunningEmulator,
  secretBase32: string = ALICE.mfaSecretBase32,
  stepOffset = 0,
): string {
  const totp = new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(secretBase32),
    digits: 6,
    period: 30,
    algorithm: "SHA1",
  });
  return totp.generate({ timestamp: emulator.clock.now() + stepOffset * 30_000 });
}

/** A code guaranteed not to be valid within ±1 step of now. */
export function wrongCode(emulator: RunningEmulator): string {
  const valid = new Set([-1, 0, 1].map((step) => totpCode(emulator, ALICE.mfaSecretBase32, step)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, "0");
    if (!valid.has(code)) return code;
  }
}

/** Asserts that `promise` rejects with an error whose `name` is `name`; returns the error. */
export async function rejectsWith(
  promise: Promise<unknown>,
  name: string,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    if ((error as Error).name !== name) {
      throw new Error(`expected ${name}, got ${(error as Error).name}: ${(error as Error).message}`);
    }
    return error as Error & { $metadata?: { httpStatusCode?: number } };
  }
  throw new Error(`expected ${name}, but the call succeeded`);
}

/** An OpenSSH `ssh-ed25519` public key line, built independently of the emulator. */
export function ed25519PublicKey(comment = "test@emulator"): string {
  const { publicKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url");
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([field(Buffer.from("ssh-ed25519")), field(raw)]);
  return `ssh-ed25519 ${blob.toString("base64")} ${comment}`;
}
