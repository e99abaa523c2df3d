import type { Logger } from "@aws-runas/wire/log.js";
import { type DurationSource, ROLE_LIMITS, resolveDuration, SESSION_TOKEN_LIMITS } from "./duration.js";
import { ConfigError } from "./errors.js";
import { type ProfileFiles, profileNames, type Section } from "./files.js";
import { DEFAULT_PROFILE, type Env, type ProfileSelection } from "./profile-name.js";
import { parseRoleArn, type RoleArn } from "./role-arn.js";

/** Option values from the command line (strings as typed; undefined when not given). */
export interface ProfileOverrides {
  /** `-d/--duration`: session-token lifetime. */
  readonly duration?: string | undefined;
  /** `-a/--role-duration`: assumed-role lifetime. */
  readonly roleDuration?: string | undefined;
  /** `-M/--mfa-serial`. */
  readonly mfaSerial?: string | undefined;
  /** `-X/--external-id`. */
  readonly externalId?: string | undefined;
}

/** Everything the credential flows need to know about the chosen profile. */
export interface ResolvedProfile {
  readonly selection: ProfileSelection;
  /** The profile name, or the role ARN when one stands in for it. */
  readonly name: string;
  /** The profile's own keys; undefined for a role ARN or a `default` profile that is not in the files. */
  readonly section: Section | undefined;
  /** Role to assume: from `role_arn`, or the ARN given in place of a profile. */
  readonly roleArn: RoleArn | undefined;
  /** Profile whose credentials assume the role (`source_profile`, or the default chain's for an ARN). */
  readonly sourceProfile: string | undefined;
  /** That profile's keys, when it is in the files. */
  readonly sourceSection: Section | undefined;
  readonly mfaSerial: string | undefined;
  readonly externalId: string | undefined;
  readonly roleSessionName: string | undefined;
  readonly region: string | undefined;
  /** GetSessionToken lifetime in seconds, clamped to 15m..36h. */
  readonly sessionTokenDuration: number;
  /** AssumeRole lifetime in seconds, clamped to 15m..12h. */
  readonly roleDuration: number;
  readonly files: ProfileFiles;
}

/** Keys that flow down `[default]` → source profile → profile (aws-runas semantics). */
const INHERITED_KEYS = [
  "mfa_serial",
  "external_id",
  "role_session_name",
  "region",
  "credentials_duration",
  "session_token_duration",
  "duration_seconds",
] as const;
type InheritedKey = (typeof INHERITED_KEYS)[number];

interface Picked {
  readonly value: string;
  readonly profile: string;
}

/**
 * Applies the merge order — `[default]` → source_profile's section → the profile's section →
 * environment → flags, later wins — and validates names and values. Pure: the files are
 * already parsed; clamping warnings go to `logger.warn`.
 */
export function resolveProfile(
  files: ProfileFiles,
  selection: ProfileSelection,
  env: Env,
  overrides: ProfileOverrides,
  logger: Logger,
): ResolvedProfile {
  const profiles = files.profiles;
  const lookup = (name: string): Section | undefined =>
    Object.hasOwn(profiles, name) ? profiles[name] : undefined;

  let name: string;
  let section: Section | undefined;
  let roleArn: RoleArn | undefined;
  let sourceProfile: string | undefined;

  if (selection.kind === "role-arn") {
    name = selection.roleArn.arn;
    roleArn = selection.roleArn;
    sourceProfile = selection.baseProfile;
    if (sourceProfile !== DEFAULT_PROFILE && !lookup(sourceProfile)) {
      throw unknownProfile(files, sourceProfile, `from ${selection.baseOrigin}`);
    }
  } else {
    name = selection.name;
    section = lookup(name);
    if (!section && name !== DEFAULT_PROFILE) {
      throw unknownProfile(
        files,
        name,
        selection.origin === "argument" ? undefined : `from ${selection.origin}`,
      );
    }
    const arnText = section?.["role_arn"];
    if (arnText) roleArn = parseRoleArn(arnText, `role_arn in profile "${name}"`);
    const source = section?.["source_profile"];
    if (source) {
      if (!lookup(source)) {
        throw new ConfigError(
          "CONFIG_UNKNOWN_SOURCE_PROFILE",
          `profile "${name}" has source_profile "${source}", which is not in the config or credentials file`,
          { hint: knownProfilesHint(files) },
        );
      }
      sourceProfile = source;
      checkSourceChain(files, name, lookup);
    }
  }
  const sourceSection = sourceProfile === undefined ? undefined : lookup(sourceProfile);

  // Later layers win; remember which profile supplied each value for messages.
  const layers: [string, Section | undefined][] = [
    [DEFAULT_PROFILE, lookup(DEFAULT_PROFILE)],
    [sourceProfile ?? "", sourceSection],
    [name, section],
  ];
  const pick = (key: InheritedKey): Picked | undefined => {
    let found: Picked | undefined;
    for (const [profile, values] of layers) {
      const v = values?.[key];
      if (v !== undefined && v !== "") found = { value: v, profile };
    }
    return found;
  };
  const fileSource = (key: InheritedKey, plainSeconds = false): DurationSource | undefined => {
    const p = pick(key);
    return p && { value: p.value, origin: `${key} in profile "${p.profile}"`, plainSeconds };
  };
  const cliSource = (value: string | undefined, origin: string): DurationSource | undefined =>
    value === undefined ? undefined : { value, origin, usage: true };

  const sessionTokenDuration = resolveDuration(
    [
      cliSource(overrides.duration, "--duration"),
      cliSource(env["SESSION_TOKEN_DURATION"], "SESSION_TOKEN_DURATION"),
      fileSource("session_token_duration"),
    ],
    SESSION_TOKEN_LIMITS,
    logger,
  );
  const roleDuration = resolveDuration(
    [
      cliSource(overrides.roleDuration, "--role-duration"),
      cliSource(env["CREDENTIALS_DURATION"], "CREDENTIALS_DURATION"),
      fileSource("credentials_duration"),
      fileSource("duration_seconds", true),
    ],
    ROLE_LIMITS,
    logger,
  );

  return {
    selection,
    name,
    section,
    roleArn,
    sourceProfile,
    sourceSection,
    mfaSerial: firstSet(overrides.mfaSerial, env["MFA_SERIAL"], pick("mfa_serial")?.value),
    externalId: firstSet(overrides.externalId, env["EXTERNAL_ID"], pick("external_id")?.value),
    roleSessionName: pick("role_session_name")?.value,
    region: firstSet(env["AWS_REGION"], env["AWS_DEFAULT_REGION"], pick("region")?.value),
    sessionTokenDuration,
    roleDuration,
    files,
  };
}

/**
 * Follows `source_profile` from `name` the way the AWS CLI does and refuses a chain that can
 * never end in credentials: a loop (`a → b → c → b`), a missing profile along the way, or a
 * profile naming itself without keys of its own. A profile naming itself with static keys is
 * the CLI's way of saying "assume the role with these keys", and ends the chain.
 */
function checkSourceChain(
  files: ProfileFiles,
  name: string,
  lookup: (name: string) => Section | undefined,
): void {
  const chain = [name];
  let current = name;
  for (;;) {
    const section = lookup(current);
    const next = section?.["source_profile"];
    // A profile without a role (or with credential_source) provides credentials itself.
    if (!section?.["role_arn"] || !next) return;
    if (next === current) {
      if (hasStaticKeys(section)) return;
      throw new ConfigError(
        "CONFIG_PROFILE_CYCLE",
        `profile "${current}" names itself as source_profile but has no keys of its own`,
        {
          hint: `give profile "${current}" aws_access_key_id and aws_secret_access_key, or point source_profile at a profile that has credentials`,
        },
      );
    }
    if (chain.includes(next)) {
      throw new ConfigError(
        "CONFIG_PROFILE_CYCLE",
        `profile "${name}": source_profile loops: ${[...chain, next].join(" -> ")}`,
        {
          hint: "end the chain at a profile with its own credentials (access keys, sso_session or credential_process)",
        },
      );
    }
    if (!lookup(next)) {
      throw new ConfigError(
        "CONFIG_UNKNOWN_SOURCE_PROFILE",
        `profile "${current}" has source_profile "${next}", which is not in the config or credentials file`,
        { hint: knownProfilesHint(files) },
      );
    }
    chain.push(next);
    current = next;
  }
}

/** Both halves of an access key in a section. Pure. */
export function hasStaticKeys(section: Section): boolean {
  return Boolean(section["aws_access_key_id"] && section["aws_secret_access_key"]);
}

function firstSet(...values: (string | undefined)[]): string | undefined {
  for (const v of values) if (v !== undefined && v.trim() !== "") return v.trim();
  return undefined;
}

function unknownProfile(files: ProfileFiles, name: string, origin: string | undefined): ConfigError {
  return new ConfigError(
    "CONFIG_UNKNOWN_PROFILE",
    `profile "${name}"${origin ? ` (${origin})` : ""} not found`,
    {
      hint: knownProfilesHint(files),
    },
  );
}

function knownProfilesHint(files: ProfileFiles): string {
  const names = profileNames(files);
  const where = `${files.configFile} and ${files.credentialsFile}`;
  if (names.length === 0) return `no profiles are defined in ${where}`;
  const shown = names.slice(0, 10).join(", ") + (names.length > 10 ? ", ..." : "");
  return `profiles in ${where}: ${shown}`;
}
