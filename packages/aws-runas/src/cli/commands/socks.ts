/** `aws-runas ssm socks` argv → {@link SocksInput} (pure). */

import { UsageError } from "@aws-runas/wire/errors.js";
import { parseGoDuration } from "../../config/duration.js";
import { DEFAULT_BIND_ADDRESS, parseBindAddress } from "../../forward/bind.js";
import { parseAllowPattern } from "../../socks/allow.js";
import { parseShellTarget } from "../../target/spec.js";
import type { Env, SocksInput } from "../inputs.js";
import { parseLocalPort } from "./forward.js";
import { type GlobalOptionValues, parseGlobalInput, splitProfileAndTarget } from "./global.js";

/** Usage line used in error hints. */
export const SOCKS_USAGE = "aws-runas ssm socks [command options] [profile_name] target_spec";

export const DEFAULT_IDLE_TIMEOUT_SECONDS = 300;
export const DEFAULT_MAX_SESSIONS = 16;

/** The socks subcommand's own flags as commander stores them. */
export interface SocksOptionValues extends GlobalOptionValues {
  port?: string;
  address?: string;
  allow?: string[];
  idleTimeout?: string;
  maxSessions?: string;
}

/** Builds the socks input; throws `UsageError` for bad positionals or flags. */
export function parseSocksInput(opts: SocksOptionValues, args: readonly string[], env: Env): SocksInput {
  const { profile, targetSpec } = splitProfileAndTarget(args, SOCKS_USAGE);
  const allow = opts.allow ?? [];
  for (const pattern of allow) parseAllowPattern(pattern);
  return {
    command: "socks",
    global: parseGlobalInput(opts, env),
    profile,
    target: parseShellTarget(targetSpec),
    plugin: false,
    localPort: opts.port === undefined ? 0 : parseLocalPort(opts.port),
    bindAddress: opts.address === undefined ? DEFAULT_BIND_ADDRESS : parseBindAddress(opts.address),
    allow,
    idleTimeoutSeconds:
      opts.idleTimeout === undefined ? DEFAULT_IDLE_TIMEOUT_SECONDS : parseIdleTimeout(opts.idleTimeout),
    maxSessions: opts.maxSessions === undefined ? DEFAULT_MAX_SESSIONS : parseMaxSessions(opts.maxSessions),
  };
}

function parseIdleTimeout(text: string): number {
  const seconds = parseGoDuration(text);
  if (seconds === undefined || seconds < 1) {
    throw new UsageError(
      `invalid --idle-timeout ${JSON.stringify(text)}`,
      "give a duration of at least 1s, e.g. 90s, 5m or 1h",
    );
  }
  return seconds;
}

function parseMaxSessions(text: string): number {
  const n = /^\d{1,4}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!(n >= 1 && n <= 1000)) {
    throw new UsageError(
      `invalid --max-sessions ${JSON.stringify(text)}`,
      "give a whole number from 1 to 1000",
    );
  }
  return n;
}
