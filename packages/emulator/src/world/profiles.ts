/**
 * The `config` and `credentials` files the emulator writes into its state directory, with ready
 * profiles for every credential flow. Pure: returns the file contents.
 *
 * For the default fixture:
 * | profile | what |
 * |---|---|
 * | `default`, `plain`, `alice` | alice's access keys |
 * | `bob` | bob's keys (no `ssm:StartSession`) |
 * | `role` | `admin` role, source_profile plain |
 * | `role-mfa` | `admin-mfa` role + alice's `mfa_serial` |
 * | `partner` | `partner` role + `external_id` |
 * | `role-<name>` | every role, by name |
 */
import type { Fixture, FixtureRole, FixtureUser } from "../fixture/types.js";

/** Contents of the two shared files. */
export interface ProfileFiles {
  config: string;
  credentials: string;
}

interface ConfigSection {
  name: string;
  values: Record<string, string | undefined>;
}

function section(header: string, values: Record<string, string | undefined>): string {
  const lines = Object.entries(values)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k} = ${v}`);
  return `[${header}]\n${lines.join("\n")}\n`;
}

/** Renders the profiles for `fixture`, pointing every profile at `endpointUrl`. */
export function renderProfiles(fixture: Fixture, endpointUrl: string): ProfileFiles {
  const withKeys = fixture.users.filter((u) => u.accessKeys.length > 0);
  const primary = withKeys[0];
  const base = { region: fixture.region, endpoint_url: endpointUrl };
  const credentials: string[] = [];
  const config: ConfigSection[] = [];
  const addUserProfile = (name: string, user: FixtureUser) => {
    const key = user.accessKeys[0];
    if (!key) return;
    credentials.push(
      section(name, { aws_access_key_id: key.accessKeyId, aws_secret_access_key: key.secretAccessKey }),
    );
    config.push({ name, values: { ...base } });
  };
  if (primary) {
    addUserProfile("default", primary);
    addUserProfile("plain", primary);
  } else {
    config.push({ name: "default", values: { ...base } });
  }
  for (const user of withKeys)
    if (user.userName !== "default" && user.userName !== "plain") addUserProfile(user.userName, user);

  const roleProfile = (role: FixtureRole): Record<string, string | undefined> => {
    // Source: a user the role trusts (so the profile works), else the primary user.
    const trusted =
      withKeys.find((u) => role.trust.principals.some((p) => p.endsWith(`:user/${u.userName}`))) ?? primary;
    const source = trusted === primary ? "plain" : trusted?.userName;
    return {
      role_arn: `arn:aws:iam::${fixture.accountId}:role/${role.roleName}`,
      source_profile: source,
      mfa_serial: role.trust.mfaRequired ? trusted?.mfaDevices[0]?.serialNumber : undefined,
      external_id: role.trust.externalId,
      ...base,
    };
  };
  const aliases: [string, FixtureRole | undefined][] = [
    ["role", fixture.roles.find((r) => !r.trust.mfaRequired && r.trust.externalId === undefined)],
    ["role-mfa", fixture.roles.find((r) => r.trust.mfaRequired && r.trust.externalId === undefined)],
    ["partner", fixture.roles.find((r) => r.trust.externalId !== undefined)],
  ];
  for (const [name, role] of aliases) if (role) config.push({ name, values: roleProfile(role) });
  for (const role of fixture.roles) config.push({ name: `role-${role.roleName}`, values: roleProfile(role) });

  return {
    config: config
      .map((s) => section(s.name === "default" ? "default" : `profile ${s.name}`, s.values))
      .join("\n"),
    credentials: credentials.join("\n"),
  };
}
