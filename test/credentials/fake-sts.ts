/** An in-memory STS for flow tests: issues credentials, records every call and what signed it. */

import { AwsError } from "@aws-runas/wire/errors.js";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { CachedCredentials } from "../../packages/aws-runas/src/credentials/cache.js";
import type {
  AssumeRoleInput,
  GetSessionTokenInput,
  StsFactory,
} from "../../packages/aws-runas/src/credentials/sts.js";

export type StsCall =
  | { op: "GetSessionToken"; signedWith: string; region: string | undefined; input: GetSessionTokenInput }
  | { op: "AssumeRole"; signedWith: string; region: string | undefined; input: AssumeRoleInput }
  | { op: "GetCallerIdentity"; signedWith: string; region: string | undefined };

export interface FakeSts {
  readonly factory: StsFactory;
  readonly calls: StsCall[];
  ops(): string[];
  /** When set, a GetSessionToken/AssumeRole carrying an MFA serial must carry this code. */
  mfaCode: string | undefined;
  /** Thrown by the next call of `op`, then cleared. */
  failNext: { op: StsCall["op"]; error: Error } | undefined;
  /** Roles that refuse callers without MFA (given now, or behind their session token). */
  readonly mfaRoles: Set<string>;
}

export function createFakeSts(now: () => number, users: Record<string, string>): FakeSts {
  const principals = new Map<string, string>(Object.entries(users));
  const withMfa = new Set<string>();
  let counter = 0;
  const issue = (prefix: string, seconds: number, principal: string, mfa: boolean): CachedCredentials => {
    counter++;
    const accessKeyId = `ASIA${prefix}${String(counter).padStart(4, "0")}`;
    principals.set(accessKeyId, principal);
    if (mfa) withMfa.add(accessKeyId);
    return {
      accessKeyId,
      secretAccessKey: `secret-${prefix}-${counter}`,
      sessionToken: `token-${prefix}-${counter}`,
      expiration: new Date(Math.floor(now() / 1000) * 1000 + seconds * 1000),
    };
  };
  const fake: FakeSts = {
    calls: [],
    ops: () => fake.calls.map((c) => c.op),
    mfaCode: undefined,
    failNext: undefined,
    mfaRoles: new Set(),
    factory: (credentials, region) => {
      const signer = async () => {
        const c: AwsCredentialIdentity =
          typeof credentials === "function"
            ? await (credentials as AwsCredentialIdentityProvider)()
            : credentials;
        return c.accessKeyId;
      };
      const check = (op: StsCall["op"], serial: string | undefined, code: string | undefined) => {
        if (fake.failNext?.op === op) {
          const e = fake.failNext.error;
          fake.failNext = undefined;
          throw e;
        }
        if (serial !== undefined && fake.mfaCode !== undefined && code !== fake.mfaCode) {
          throw new AwsError("AccessDenied", "STS: access denied: MultiFactorAuthentication failed", {
            kind: "denied",
          });
        }
      };
      return {
        getSessionToken: async (input) => {
          const signedWith = await signer();
          fake.calls.push({ op: "GetSessionToken", signedWith, region, input });
          check("GetSessionToken", input.serialNumber, input.tokenCode);
          return issue(
            "SESS",
            input.durationSeconds,
            principals.get(signedWith) ?? "unknown",
            input.tokenCode !== undefined,
          );
        },
        assumeRole: async (input) => {
          const signedWith = await signer();
          fake.calls.push({ op: "AssumeRole", signedWith, region, input });
          check("AssumeRole", input.serialNumber, input.tokenCode);
          const mfa = input.tokenCode !== undefined || withMfa.has(signedWith);
          if (fake.mfaRoles.has(input.roleArn) && !mfa) {
            throw new AwsError(
              "AccessDenied",
              `STS AssumeRole: access denied: not authorized to perform sts:AssumeRole`,
              { kind: "denied" },
            );
          }
          const roleName = input.roleArn.split("/").at(-1);
          const account = input.roleArn.split(":")[4];
          return issue(
            "ROLE",
            input.durationSeconds,
            `arn:aws:sts::${account}:assumed-role/${roleName}/${input.roleSessionName}`,
            mfa,
          );
        },
        getCallerIdentity: async () => {
          const signedWith = await signer();
          fake.calls.push({ op: "GetCallerIdentity", signedWith, region });
          check("GetCallerIdentity", undefined, undefined);
          const arn = principals.get(signedWith) ?? "unknown";
          return { arn, account: arn.split(":")[4] ?? "", userId: `ID-${signedWith}` };
        },
      };
    },
  };
  return fake;
}
