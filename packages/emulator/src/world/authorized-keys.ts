/**
 * EC2 Instance Connect keys: SendSSHPublicKey authorizes a public key for an OS user for 60 s.
 *
 * The emulator keeps them in a state file so that sshd can ask for them through
 * `aws-runas-emulator authorized-keys --state-dir DIR <user>` (an `AuthorizedKeysCommand`). The
 * file also records how far the emulator's clock runs ahead of the system clock, so expiry is
 * enforced at read time in emulator time even after a test advanced the clock.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { WorldClock } from "./clock.js";

/** The state file's name inside the state directory. */
export const AUTHORIZED_KEYS_FILE = "ec2ic-authorized-keys.json";

/** How long a key pushed with SendSSHPublicKey stays valid. */
export const EC2IC_KEY_LIFETIME_MS = 60_000;

/** One pushed key. */
export interface AuthorizedKey {
  instanceId: string;
  osUser: string;
  publicKey: string;
  /** Emulator-clock ms. */
  expiresAt: number;
}

interface StateFile {
  /** Emulator clock minus system clock, in ms, when the file was written. */
  clockOffsetMs: number;
  keys: AuthorizedKey[];
}

/** Keys that are still valid at `now` for `osUser`. Pure. */
export function validKeys(keys: readonly AuthorizedKey[], osUser: string, now: number): AuthorizedKey[] {
  return keys.filter((k) => k.osUser === osUser && k.expiresAt > now);
}

/** The emulator side: records keys and keeps the state file current. */
export class AuthorizedKeyStore {
  readonly #file: string;
  readonly #clock: WorldClock;
  #keys: AuthorizedKey[] = [];
  #writing: Promise<void> = Promise.resolve();

  constructor(stateDir: string, clock: WorldClock) {
    this.#file = join(stateDir, AUTHORIZED_KEYS_FILE);
    this.#clock = clock;
  }

  /** Authorizes `publicKey` for `osUser` for {@link EC2IC_KEY_LIFETIME_MS} and writes the file. */
  async add(instanceId: string, osUser: string, publicKey: string): Promise<AuthorizedKey> {
    const key = {
      instanceId,
      osUser,
      publicKey: publicKey.trim(),
      expiresAt: this.#clock.now() + EC2IC_KEY_LIFETIME_MS,
    };
    this.#keys.push(key);
    await this.persist();
    return key;
  }

  /** Keys valid now for `osUser` (in-process view of what the subcommand prints). */
  valid(osUser: string): AuthorizedKey[] {
    return validKeys(this.#keys, osUser, this.#clock.now());
  }

  /** Drops expired keys and rewrites the state file (also called after the clock moves). */
  persist(): Promise<void> {
    const run = async () => {
      const now = this.#clock.now();
      this.#keys = this.#keys.filter((k) => k.expiresAt > now);
      const state: StateFile = { clockOffsetMs: now - Date.now(), keys: this.#keys };
      const tmp = `${this.#file}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
      await rename(tmp, this.#file);
    };
    // Serialize writes so an older snapshot never replaces a newer one.
    this.#writing = this.#writing.then(run, run);
    return this.#writing;
  }
}

/**
 * The subcommand side: public keys currently valid for `osUser`, one per line as sshd expects.
 * A missing state file means no keys.
 */
export async function readAuthorizedKeys(
  stateDir: string,
  osUser: string,
  systemNow: number = Date.now(),
): Promise<string[]> {
  let state: StateFile;
  try {
    state = JSON.parse(await readFile(join(stateDir, AUTHORIZED_KEYS_FILE), "utf8")) as StateFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const now = systemNow + (Number.isFinite(state.clockOffsetMs) ? state.clockOffsetMs : 0);
  return validKeys(Array.isArray(state.keys) ? state.keys : [], osUser, now).map((k) => k.publicKey);
}
