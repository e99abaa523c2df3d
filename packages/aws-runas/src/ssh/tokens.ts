/**
 * Expansion of ssh_config paths: a leading `~`, `${ENV}` variables and the `%` tokens that
 * `IdentityFile` / `IdentityAgent` accept (ssh_config(5) TOKENS). Pure: every value comes in.
 */
import { SshFormatError } from "./errors.js";

/** Values for the `%` tokens. */
export interface TokenValues {
  /** `%d` and `~`: the local user's home directory. */
  readonly home: string;
  /** `%u`: the local user name. */
  readonly localUser: string;
  /** `%r`: the remote (login) user. */
  readonly remoteUser: string;
  /** `%h`: the remote host name (after any `HostName`). */
  readonly host: string;
  /** `%n`: the host name as given on the command line. */
  readonly originalHost: string;
  /** `%p`: the remote port. */
  readonly port: number;
  /** `%l`: the local host name; `%L` is its first label. */
  readonly localHostname: string;
  /** `%i`: the local user id. */
  readonly uid: number;
}

/**
 * Expands `~`, `${VAR}` and `%x` tokens in a path. Throws {@link SshFormatError} for a token,
 * variable or `~user` form it cannot expand, so the caller can skip that path with a note.
 */
export function expandPath(
  raw: string,
  values: TokenValues,
  env: Readonly<Record<string, string | undefined>>,
): string {
  let path = raw;
  if (path === "~" || path.startsWith("~/")) path = values.home + path.slice(1);
  else if (path.startsWith("~"))
    throw new SshFormatError(`cannot expand ${path.split("/")[0]} (only ~ is supported)`);
  return path.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|%(.)|%$/g,
    (whole, name: string | undefined, token: string | undefined) => {
      if (name !== undefined) {
        const value = env[name];
        if (value === undefined)
          throw new SshFormatError(`environment variable ${name} in "${raw}" is not set`);
        return value;
      }
      switch (token) {
        case "%":
          return "%";
        case "d":
          return values.home;
        case "u":
          return values.localUser;
        case "r":
          return values.remoteUser;
        case "h":
          return values.host;
        case "n":
          return values.originalHost;
        case "p":
          return String(values.port);
        case "l":
          return values.localHostname;
        case "L":
          return values.localHostname.split(".")[0] ?? values.localHostname;
        case "i":
          return String(values.uid);
        default:
          throw new SshFormatError(`unsupported token ${whole} in "${raw}"`);
      }
    },
  );
}
