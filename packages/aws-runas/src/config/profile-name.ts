import { looksLikeArn, parseRoleArn, type RoleArn } from "./role-arn.js";

/** Environment as a plain read-only map (`process.env` fits). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Where the profile name came from. */
export type ProfileOrigin = "argument" | "AWS_PROFILE" | "AWS_DEFAULT_PROFILE" | "default";

/** What the user asked to run as: a named profile, or a role ARN in place of one. */
export type ProfileSelection =
  | { readonly kind: "profile"; readonly name: string; readonly origin: ProfileOrigin }
  | {
      readonly kind: "role-arn";
      readonly roleArn: RoleArn;
      readonly origin: ProfileOrigin;
      /** Profile of the default chain whose credentials assume the role. */
      readonly baseProfile: string;
      readonly baseOrigin: ProfileOrigin;
    };

/** The name of the profile every other one inherits from. */
export const DEFAULT_PROFILE = "default";

/**
 * Chooses the profile: the explicit name (positional argument), else `AWS_PROFILE`, else
 * `AWS_DEFAULT_PROFILE`, else `default`. A role ARN may stand in for the name; its base
 * credentials then come from the default chain's profile. Pure; throws on a malformed ARN.
 */
export function selectProfile(explicit: string | undefined, env: Env): ProfileSelection {
  const envChoice = fromEnv(env);
  const chosen: { name: string; origin: ProfileOrigin } = nonEmpty(explicit)
    ? { name: explicit!.trim(), origin: "argument" }
    : envChoice;
  if (!looksLikeArn(chosen.name)) return { kind: "profile", ...chosen };

  const roleArn = parseRoleArn(
    chosen.name,
    chosen.origin === "argument" ? "command line" : chosen.origin,
    true,
  );
  // The base profile comes from the environment unless that is the ARN itself.
  const base =
    chosen.origin === "argument" && !looksLikeArn(envChoice.name)
      ? envChoice
      : { name: DEFAULT_PROFILE, origin: "default" as const };
  return {
    kind: "role-arn",
    roleArn,
    origin: chosen.origin,
    baseProfile: base.name,
    baseOrigin: base.origin,
  };
}

function fromEnv(env: Env): { name: string; origin: ProfileOrigin } {
  if (nonEmpty(env["AWS_PROFILE"])) return { name: env["AWS_PROFILE"]!.trim(), origin: "AWS_PROFILE" };
  if (nonEmpty(env["AWS_DEFAULT_PROFILE"])) {
    return { name: env["AWS_DEFAULT_PROFILE"]!.trim(), origin: "AWS_DEFAULT_PROFILE" };
  }
  return { name: DEFAULT_PROFILE, origin: "default" };
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== "";
}
