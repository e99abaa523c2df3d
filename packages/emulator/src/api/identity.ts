/**
 * Who is calling: access keys (the fixture's long-term keys and the temporary credentials STS
 * issued), the principals behind them, and the simple permission model (allow-lists of actions
 * with `*`/`?` wildcards).
 */
import { createHash, randomBytes } from "node:crypto";
import type { Fixture, FixtureRole, FixtureUser } from "../fixture/types.js";
import type { WorldClock } from "../world/clock.js";

/** An authenticated identity. */
export interface Principal {
  kind: "user" | "assumed-role";
  /** `arn:aws:iam::<acct>:user/<name>` or `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. */
  arn: string;
  /** GetCallerIdentity's `UserId`: `AIDA…` for users, `AROA…:<session>` for assumed roles. */
  userId: string;
  accountId: string;
  /** User name or role session name (the prefix of SessionIds). */
  name: string;
  /** The IAM user the credentials ultimately come from (owner of MFA devices); absent for pure role chains. */
  sourceUser: string | undefined;
  /** Role name for assumed roles. */
  roleName: string | undefined;
  /** Actions this principal may call. */
  allow: readonly string[];
  /** Whether MFA was presented when these credentials were issued (`aws:MultiFactorAuthPresent`). */
  mfaAuthenticated: boolean;
}

/** What a request's access key resolves to. */
export interface KeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  /** Present for temporary credentials; the request must carry the same token. */
  sessionToken: string | undefined;
  /** Expiration (clock ms) for temporary credentials. */
  expiresAt: number | undefined;
  principal: Principal;
}

/** Credentials handed out by GetSessionToken / AssumeRole. */
export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** World-clock ms. */
  expiresAt: number;
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function upperId(bytes: Buffer, length: number): string {
  let out = "";
  for (let i = 0; out.length < length; i++) out += BASE32[(bytes[i % bytes.length] ?? 0) % 32];
  return out;
}

/** Stable IAM unique id (`AIDA…`/`AROA…`) derived from the account and name. */
export function uniqueId(prefix: "AIDA" | "AROA", accountId: string, name: string): string {
  return prefix + upperId(createHash("sha256").update(`${accountId}/${prefix}/${name}`).digest(), 17);
}

/** True when `action` (`service:Operation`) matches one of the allow-list patterns. */
export function isAllowed(allow: readonly string[], action: string): boolean {
  return allow.some((pattern) => {
    const re = pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".");
    return new RegExp(`^${re}$`, "i").test(action);
  });
}

/** The key store. One per emulator; issued credentials live until they expire (checked on use). */
export class IdentityStore {
  readonly #fixture: Fixture;
  readonly #clock: WorldClock;
  readonly #random: (size: number) => Buffer;
  readonly #keys = new Map<string, KeyRecord>();
  readonly #issuedListeners = new Set<(credentials: IssuedCredentials) => void>();

  constructor(fixture: Fixture, clock: WorldClock, random: (size: number) => Buffer = randomBytes) {
    this.#fixture = fixture;
    this.#clock = clock;
    this.#random = random;
    for (const user of fixture.users) {
      for (const key of user.accessKeys) {
        this.#keys.set(key.accessKeyId, {
          accessKeyId: key.accessKeyId,
          secretAccessKey: key.secretAccessKey,
          sessionToken: undefined,
          expiresAt: undefined,
          principal: this.userPrincipal(user, false),
        });
      }
    }
  }

  /** The record for an access key id, or undefined when unknown. */
  lookup(accessKeyId: string): KeyRecord | undefined {
    return this.#keys.get(accessKeyId);
  }

  findUser(userName: string): FixtureUser | undefined {
    return this.#fixture.users.find((u) => u.userName === userName);
  }

  /** A role by ARN (`arn:aws:iam::<acct>:role/<name>`). */
  findRoleByArn(arn: string): FixtureRole | undefined {
    const prefix = `arn:aws:iam::${this.#fixture.accountId}:role/`;
    if (!arn.startsWith(prefix)) return undefined;
    const name = arn.slice(prefix.length).split("/").pop();
    return this.#fixture.roles.find((r) => r.roleName === name);
  }

  userPrincipal(user: FixtureUser, mfaAuthenticated: boolean): Principal {
    const accountId = this.#fixture.accountId;
    return {
      kind: "user",
      arn: `arn:aws:iam::${accountId}:user/${user.userName}`,
      userId: uniqueId("AIDA", accountId, user.userName),
      accountId,
      name: user.userName,
      sourceUser: user.userName,
      roleName: undefined,
      allow: user.allow,
      mfaAuthenticated,
    };
  }

  rolePrincipal(
    role: FixtureRole,
    sessionName: string,
    mfaAuthenticated: boolean,
    sourceUser: string | undefined,
  ): Principal {
    const accountId = this.#fixture.accountId;
    return {
      kind: "assumed-role",
      arn: `arn:aws:sts::${accountId}:assumed-role/${role.roleName}/${sessionName}`,
      userId: `${uniqueId("AROA", accountId, role.roleName)}:${sessionName}`,
      accountId,
      name: sessionName,
      sourceUser,
      roleName: role.roleName,
      allow: role.allow,
      mfaAuthenticated,
    };
  }

  /** Issues temporary credentials for `principal`, valid for `durationSeconds` from now. */
  issue(principal: Principal, durationSeconds: number): IssuedCredentials {
    let accessKeyId: string;
    do {
      accessKeyId = `ASIA${upperId(this.#random(16), 16)}`;
    } while (this.#keys.has(accessKeyId));
    const credentials: IssuedCredentials = {
      accessKeyId,
      secretAccessKey: this.#random(30).toString("base64"),
      sessionToken: `IQoJb3JpZ2luX2VtdRUL${this.#random(264).toString("base64")}`,
      // Real STS reports whole seconds; keep the stored expiry equal to what the client sees.
      expiresAt: Math.floor((this.#clock.now() + durationSeconds * 1000) / 1000) * 1000,
    };
    this.#keys.set(accessKeyId, { ...credentials, principal });
    for (const listener of this.#issuedListeners) listener(credentials);
    return credentials;
  }

  /** Subscribes to newly issued credentials (the emulator registers their secrets for log redaction). */
  onIssued(listener: (credentials: IssuedCredentials) => void): () => void {
    this.#issuedListeners.add(listener);
    return () => this.#issuedListeners.delete(listener);
  }
}
