/**
 * Which public key `--ec2ic` pushes. The first usable key wins, looked for in this order:
 *
 * 1. `IdentityFile` entries that apply to the host in the ssh config (`~/.ssh/config` and its
 *    includes; also those of `Host` aliases whose `HostName` is this host), using `<file>.pub`
 *    when present, else the public key in / derived from the private key file;
 * 2. keys held by ssh-agent (`IdentityAgent`, else `SSH_AUTH_SOCK`), unless `IdentitiesOnly yes`;
 * 3. the default keys `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa` — only when no IdentityFile
 *    applies, because ssh itself offers them only then.
 *
 * Keys EC2 Instance Connect refuses (certificates, security keys, DSA) are passed over. When
 * nothing is usable, {@link NoUsableKeyError} lists every place tried and why.
 */
import { access } from "node:fs/promises";
import { homedir, hostname, userInfo } from "node:os";
import { resolve } from "node:path";
import type { Logger } from "@aws-runas/wire/log.js";
import { listAgentIdentities } from "./agent.js";
import { aliasesForHostName, evaluateSshConfig } from "./config.js";
import { loadSshConfig } from "./config-file.js";
import { NoUsableKeyError, SshFormatError } from "./errors.js";
import { publicKeyForIdentityFile } from "./key-file.js";
import {
  ec2icRejection,
  fingerprint,
  formatPublicKey,
  type PublicKey,
  publicKeyFromBlob,
} from "./public-key.js";
import { expandPath, type TokenValues } from "./tokens.js";

/** Default identity files tried when no IdentityFile applies, most preferred first. */
export const DEFAULT_IDENTITY_FILES: readonly string[] = ["id_ed25519", "id_ecdsa", "id_rsa"];

/** Where a discovered key came from. */
export type KeySource = "identity-file" | "agent" | "default-file";

export interface KeyDiscoveryOptions {
  /** The target host (`%h`, or what the ProxyCommand spells): matched against `Host` lines. */
  readonly host: string;
  /**
   * The host name as given to ssh (`%n`, `--ssh-host`): when set, `Host` lines are matched
   * against it instead of {@link host}, as ssh itself does — `Host web.prod` with a ProxyCommand
   * naming `Name:web` finds web.prod's IdentityFile.
   */
  readonly alias?: string;
  /** The login user on the instance (`%r`). */
  readonly remoteUser: string;
  /** Remote port (`%p`), default 22. */
  readonly port?: number;
  /** Environment: `HOME`, `USER`, `SSH_AUTH_SOCK` and `${VAR}`s in the config are read from it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Home directory; default `env.HOME`, then the OS's idea of it. */
  readonly home?: string;
  /** ssh config to read; default `<home>/.ssh/config`. */
  readonly sshConfigPath?: string;
  /** Base for relative IdentityFile paths (ssh's working directory); default `process.cwd()`. */
  readonly cwd?: string;
  /** How long to wait for ssh-agent (default 5000 ms). */
  readonly agentTimeoutMs?: number;
  readonly logger?: Logger;
}

/** The key to push. */
export interface DiscoveredKey {
  readonly key: PublicKey;
  /** One-line OpenSSH form, as sent to SendSSHPublicKey. */
  readonly publicKey: string;
  readonly source: KeySource;
  /** Human-readable origin: a file path (with `~`) or `ssh-agent (<comment>)`. */
  readonly origin: string;
  /** `SHA256:...`, as `ssh-keygen -l` shows it. */
  readonly fingerprint: string;
}

function localUserName(env: KeyDiscoveryOptions["env"]): string {
  if (env.USER) return env.USER;
  if (env.LOGNAME) return env.LOGNAME;
  try {
    return userInfo().username;
  } catch {
    return "";
  }
}

/** Finds the public key to push (order in the module comment); throws {@link NoUsableKeyError}. */
export async function discoverPublicKey(options: KeyDiscoveryOptions): Promise<DiscoveredKey> {
  const { env, host, logger } = options;
  const home = options.home ?? env.HOME ?? homedir();
  const tilde = (p: string) => (p === home || p.startsWith(`${home}/`) ? `~${p.slice(home.length)}` : p);
  const tried: string[] = [];
  const found = (key: PublicKey, source: KeySource, origin: string): DiscoveredKey => {
    const result = {
      key,
      publicKey: formatPublicKey(key),
      source,
      origin,
      fingerprint: fingerprint(key.blob),
    };
    logger?.debug(`ec2ic: using ${key.type} key ${result.fingerprint} from ${origin}`);
    return result;
  };
  /** Tries one identity file; records why it was passed over. */
  const tryFile = async (path: string, label: string): Promise<PublicKey | undefined> => {
    const result = await publicKeyForIdentityFile(path);
    const rejection = result.ok ? ec2icRejection(result.key.type) : result.reason;
    if (result.ok && rejection === undefined) return result.key;
    tried.push(`${label}${tilde(path)} (${rejection})`);
    return undefined;
  };

  const configPath = options.sshConfigPath ?? resolve(home, ".ssh", "config");
  const config = await loadSshConfig(configPath, { home, env });
  const name = options.alias ?? host;
  const settings = evaluateSshConfig(config, name);
  const aliases =
    settings.identityFiles.length === 0 && options.alias === undefined
      ? aliasesForHostName(config, host)
      : [];
  for (const note of settings.notes) logger?.debug(`ssh config: ${note}`);

  // 1. IdentityFile entries for the host (or for aliases whose HostName is the host).
  const values: TokenValues = {
    home,
    localUser: localUserName(env),
    remoteUser: options.remoteUser,
    host: settings.hostName ?? name,
    originalHost: name,
    port: options.port ?? 22,
    localHostname: hostname(),
    uid: process.getuid?.() ?? 0,
  };
  const entries = [
    ...settings.identityFiles.map((raw) => ({ raw, values })),
    ...aliases.flatMap((alias) => {
      logger?.debug(`ssh config: Host ${alias} has HostName ${host}; using its IdentityFile entries`);
      return evaluateSshConfig(config, alias).identityFiles.map((raw) => ({
        raw,
        values: { ...values, originalHost: alias },
      }));
    }),
  ];
  const seen = new Set<string>();
  for (const { raw, values: v } of entries) {
    let path: string;
    try {
      path = resolve(options.cwd ?? process.cwd(), expandPath(raw, v, env));
    } catch (error) {
      tried.push(`IdentityFile ${raw} (${error instanceof SshFormatError ? error.message : String(error)})`);
      continue;
    }
    if (seen.has(path)) continue;
    seen.add(path);
    const key = await tryFile(path, "IdentityFile ");
    if (key) return found(key, "identity-file", tilde(path));
  }
  if (entries.length === 0) {
    // Say which name the config was searched for: a Host alias that differs from the target is
    // the usual reason nothing applies.
    const exists = await access(configPath).then(
      () => true,
      () => false,
    );
    tried.push(
      exists
        ? `${tilde(configPath)} (no IdentityFile for Host ${JSON.stringify(name)})`
        : `${tilde(configPath)} (not found)`,
    );
  }

  // 2. ssh-agent.
  const agentKey = await agentCandidate(
    settings.identityAgent,
    settings.identitiesOnly === true,
    env,
    values,
    tried,
  );
  if (agentKey) return found(agentKey.key, "agent", agentKey.origin);

  // 3. Default key files, which ssh only offers when no IdentityFile applies.
  if (entries.length > 0) {
    tried.push("default keys ~/.ssh/id_* (ssh does not offer them when an IdentityFile applies)");
  } else {
    for (const name of DEFAULT_IDENTITY_FILES) {
      const path = resolve(home, ".ssh", name);
      const key = await tryFile(path, "");
      if (key) return found(key, "default-file", tilde(path));
    }
  }
  throw new NoUsableKeyError(tried, { aliasMayHelp: entries.length === 0 && options.alias === undefined });
}

/** The agent step: the first key of an acceptable type, recording why the agent gave none. */
async function agentCandidate(
  identityAgent: string | undefined,
  identitiesOnly: boolean,
  env: KeyDiscoveryOptions["env"],
  values: TokenValues,
  tried: string[],
): Promise<{ key: PublicKey; origin: string } | undefined> {
  if (identitiesOnly) {
    tried.push("ssh-agent (skipped: IdentitiesOnly yes)");
    return undefined;
  }
  let socket: string | undefined;
  if (identityAgent === undefined || identityAgent === "SSH_AUTH_SOCK") socket = env.SSH_AUTH_SOCK;
  else if (identityAgent.toLowerCase() === "none") {
    tried.push("ssh-agent (IdentityAgent none)");
    return undefined;
  } else if (identityAgent.startsWith("$")) socket = env[identityAgent.slice(1)];
  else {
    try {
      socket = expandPath(identityAgent, values, env);
    } catch (error) {
      tried.push(`ssh-agent (IdentityAgent ${identityAgent}: ${(error as Error).message})`);
      return undefined;
    }
  }
  if (!socket) {
    tried.push("ssh-agent (SSH_AUTH_SOCK not set)");
    return undefined;
  }
  let identities: Awaited<ReturnType<typeof listAgentIdentities>>;
  try {
    identities = await listAgentIdentities(socket);
  } catch (error) {
    tried.push(`ssh-agent (${(error as Error).message})`);
    return undefined;
  }
  if (identities.length === 0) {
    tried.push("ssh-agent (holds no keys)");
    return undefined;
  }
  const refused: string[] = [];
  for (const identity of identities) {
    let key: PublicKey;
    try {
      key = publicKeyFromBlob(identity.blob, identity.comment);
    } catch (error) {
      refused.push(`unreadable key: ${(error as Error).message}`);
      continue;
    }
    const rejection = ec2icRejection(key.type);
    if (rejection === undefined) return { key, origin: `ssh-agent${key.comment ? ` (${key.comment})` : ""}` };
    refused.push(rejection);
  }
  tried.push(`ssh-agent (${[...new Set(refused)].join("; ")})`);
  return undefined;
}
