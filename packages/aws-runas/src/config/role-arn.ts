import { ConfigError } from "./errors.js";

/** A parsed IAM role ARN: `arn:<partition>:iam::<account>:role/<path/><name>`. */
export interface RoleArn {
  /** The ARN as written. */
  readonly arn: string;
  readonly partition: string;
  /** 12-digit account id. */
  readonly accountId: string;
  /** `/` or `/path/to/` (always starts and ends with `/`). */
  readonly path: string;
  readonly roleName: string;
}

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/((?:[\x21-\x7e]+\/)*)([\w+=,.@-]{1,64})$/;

/** True for text that claims to be an ARN, i.e. where a profile name is not meant. */
export function looksLikeArn(text: string): boolean {
  return text.startsWith("arn:");
}

/** Parses a role ARN, or returns `undefined` when `text` is not one. */
export function tryParseRoleArn(text: string): RoleArn | undefined {
  const m = ROLE_ARN.exec(text.trim());
  if (!m) return undefined;
  return {
    arn: text.trim(),
    partition: m[1] ?? "aws",
    accountId: m[2] ?? "",
    path: `/${m[3] ?? ""}`,
    roleName: m[4] ?? "",
  };
}

/**
 * Parses a role ARN or throws a one-line {@link ConfigError}; `origin` says where the text came
 * from (`"command line"`, `role_arn in profile "x"`).
 */
export function parseRoleArn(text: string, origin: string, usage = false): RoleArn {
  const parsed = tryParseRoleArn(text);
  if (!parsed) {
    throw new ConfigError("CONFIG_BAD_ROLE_ARN", `malformed role ARN "${text}" (${origin})`, {
      hint: "a role ARN looks like arn:aws:iam::123456789012:role/Name (12-digit account id)",
      usage,
    });
  }
  return parsed;
}
