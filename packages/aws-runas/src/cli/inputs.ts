/**
 * What each command needs to run, as plain values. The parsers in `commands/` turn argv and
 * the environment into these; the runners in `run/` take them. Nothing here does I/O.
 */

import type { LogLevel } from "@aws-runas/wire/log.js";
import type { LocalForward } from "../forward/spec.js";

/** Environment variables as the CLI reads them (a `process.env`-like map). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Credential and output options shared by every `ssm` command (cli-reference §1). */
export interface GlobalInput {
  /** `-d` / `SESSION_TOKEN_DURATION`, unparsed (e.g. `12h`); the credentials layer validates it. */
  readonly sessionTokenDuration: string | undefined;
  /** `-a` / `CREDENTIALS_DURATION`, unparsed (e.g. `1h`). */
  readonly roleDuration: string | undefined;
  /** `-o` / `MFA_CODE`. A secret: never log it. */
  readonly mfaCode: string | undefined;
  /** `-M` / `MFA_SERIAL`. */
  readonly mfaSerial: string | undefined;
  /** `-X` / `EXTERNAL_ID`. */
  readonly externalId: string | undefined;
  /** `-r`: drop the profile's cached role credentials first. */
  readonly refresh: boolean;
  /** `-e`: print the credential expiry on stderr. */
  readonly showExpiration: boolean;
  /** `-w`: print the caller identity on stderr. */
  readonly whoami: boolean;
  /** Number of `-v` flags, capped at 3. */
  readonly verbosity: LogLevel;
}

/** Fields every `ssm` subcommand has. */
interface SsmInputBase {
  readonly global: GlobalInput;
  /**
   * Profile name or role ARN from the first of two positionals; `undefined` when only the
   * target was given (the credentials layer then uses AWS_PROFILE, AWS_DEFAULT_PROFILE, default).
   */
  readonly profile: string | undefined;
  /** `--plugin` / `-P`: hand the session to AWS's session-manager-plugin. */
  readonly plugin: boolean;
}

/** `aws-runas ssm shell`. */
export interface ShellInput extends SsmInputBase {
  readonly command: "shell";
  /** Instance id, tag `key:value`, IP address or DNS name (not yet resolved). */
  readonly target: string;
  /** `--document`: session document to start; `undefined` = the standard shell. */
  readonly document: string | undefined;
  /** `--parameter k=v`: document parameters in StartSession's shape (repeated keys collect values). */
  readonly parameters: Readonly<Record<string, readonly string[]>>;
  /** Words after `--`: run this command (no terminal) and exit with its status. */
  readonly remoteCommand?: readonly string[] | undefined;
  /** `--escape-char` / `RUNAS_ESCAPE_CHAR` as a byte; null = escapes off. */
  readonly escapeChar: number | null;
}

/** `aws-runas ssm forward`. */
export interface ForwardInput extends SsmInputBase {
  readonly command: "forward";
  /** Instance id, tag `key:value`, IP address or DNS name (not yet resolved). */
  readonly target: string;
  /** Port on the remote side (from `target:port`). */
  readonly remotePort: number;
  /** `--port`: local port to listen on 127.0.0.1; 0 = pick a free one. */
  readonly localPort: number;
  /** `--host`: forward to this host through the instance; `undefined` = the instance itself. */
  readonly remoteHost: string | undefined;
  /** `--address`: where the listener(s) bind; 127.0.0.1 unless given. */
  readonly bindAddress: string;
  /**
   * `-L` forwards, in order. When non-empty, `target` is the instance alone (no `:port`) and
   * `remotePort` / `localPort` / `remoteHost` are unused.
   */
  readonly forwards: readonly LocalForward[];
  /** False with `--no-reconnect`: a session that ends for good ends the command. */
  readonly reconnect: boolean;
}

/** `aws-runas ssm ssh` (ssh ProxyCommand). */
export interface SshInput extends SsmInputBase {
  readonly command: "ssh";
  /** Instance id, tag `key:value`, IP address or DNS name (the `host` of `user@host:port`). */
  readonly target: string;
  /** Login user (for `--ec2ic`); `ec2-user` when the spec has none. */
  readonly user: string;
  /** Remote SSH port; 22 when the spec has none. */
  readonly port: number;
  /** `--ec2ic`: push the public key with EC2 Instance Connect first. */
  readonly ec2ic: boolean;
  /** `--ssh-host` (`%n`): the name ssh was given, whose Host blocks `--ec2ic` reads; else the target's. */
  readonly sshHost?: string;
}

/** `aws-runas ssm list [profile_name]`. */
export interface ListInput {
  readonly command: "list";
  readonly global: GlobalInput;
  readonly profile: string | undefined;
  /** `--json`: machine-readable output. */
  readonly json: boolean;
  /** `--filter key=pattern`, repeatable (all must match). */
  readonly filters: readonly string[];
}

/** `aws-runas ssm socks`: a SOCKS5 proxy whose connections leave from the instance. */
export interface SocksInput extends SsmInputBase {
  readonly command: "socks";
  /** Instance id, tag `key:value`, IP address or DNS name (not yet resolved). */
  readonly target: string;
  /** `--port`: 0 = pick a free one. */
  readonly localPort: number;
  /** `--address`: 127.0.0.1 unless given. */
  readonly bindAddress: string;
  /** `--allow` patterns as given (validated); empty = every destination. */
  readonly allow: readonly string[];
  /** `--idle-timeout` in seconds. */
  readonly idleTimeoutSeconds: number;
  /** `--max-sessions`. */
  readonly maxSessions: number;
}

/** `aws-runas completion bash|zsh|fish`. */
export interface CompletionInput {
  readonly command: "completion";
  readonly shell: "bash" | "zsh" | "fish";
}

/** Hidden `aws-runas __complete -- LINE`: the completion scripts call it on Tab. */
export interface CompleteInput {
  readonly command: "complete";
  /** The command line up to the cursor. */
  readonly line: string;
}

/** Any command the program can run, as decided by argv. */
export type CommandInput =
  | ShellInput
  | ForwardInput
  | SshInput
  | SocksInput
  | ListInput
  | CompletionInput
  | CompleteInput;

/** What credentials and clients are resolved from (every `ssm` command). */
export type CredentialInput = Pick<SsmInput | ListInput, "global" | "profile">;

/** The session commands. */
export type SsmInput = ShellInput | ForwardInput | SshInput | SocksInput;
