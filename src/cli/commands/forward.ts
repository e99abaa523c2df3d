/** `aws-runas ssm forward` argv → {@link ForwardInput} (pure). */
import { UsageError } from "../../errors.js";
import { parseForwardTarget } from "../../target/spec.js";
import type { Env, ForwardInput } from "../inputs.js";
import { type GlobalOptionValues, parseGlobalInput, splitProfileAndTarget } from "./global.js";

/** Usage line used in error hints. */
export const FORWARD_USAGE = "aws-runas ssm forward [command options] [profile_name] target_spec";

const MAX_PORT = 65535;

/** The forward subcommand's own flags as commander stores them. */
export interface ForwardOptionValues extends GlobalOptionValues {
  plugin?: boolean;
  port?: string;
  host?: string;
  /** commander stores `--no-reconnect` as `reconnect: false`. */
  reconnect?: boolean;
  noReconnect?: boolean;
}

/** Builds the forward input; throws `UsageError` for bad positionals or flags. */
export function parseForwardInput(
  opts: ForwardOptionValues,
  args: readonly string[],
  env: Env,
): ForwardInput {
  const { profile, targetSpec } = splitProfileAndTarget(args, FORWARD_USAGE);
  const { target, port } = parseForwardTarget(targetSpec);
  return {
    command: "forward",
    global: parseGlobalInput(opts, env),
    profile,
    target,
    remotePort: port,
    localPort: opts.port === undefined ? 0 : parseLocalPort(opts.port),
    remoteHost: parseRemoteHost(opts.host),
    plugin: opts.plugin === true,
    reconnect: opts.reconnect !== false && opts.noReconnect !== true,
  };
}

/** `--port`: a whole number 0..65535 (0 = any free port, like leaving it out). */
export function parseLocalPort(text: string): number {
  const hint = "the local port must be a number 1-65535; leave out -p for a random port";
  if (!/^\d+$/.test(text.trim())) {
    throw new UsageError(`invalid --port ${JSON.stringify(text)}: not a number`, hint);
  }
  const port = Number(text.trim());
  if (port > MAX_PORT) throw new UsageError(`invalid --port ${text.trim()}: out of range`, hint);
  return port;
}

function parseRemoteHost(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  if (host.trim() === "" || /\s/.test(host)) {
    throw new UsageError(
      `invalid --host ${JSON.stringify(host)}`,
      "give a host name or IP address the instance can reach, e.g. --host db.internal",
    );
  }
  return host;
}
