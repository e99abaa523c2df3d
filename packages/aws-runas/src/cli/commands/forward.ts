/** `aws-runas ssm forward` argv → {@link ForwardInput} (pure). */
import { UsageError } from "@aws-runas/wire/errors.js";
import { DEFAULT_BIND_ADDRESS, parseBindAddress } from "../../forward/bind.js";
import { LOCAL_FORWARD_HINT, parseLocalForward } from "../../forward/spec.js";
import { isInstanceId, parseForwardTarget, parseShellTarget } from "../../target/spec.js";
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
  address?: string;
  /** Each `-L` value in order. */
  local?: string[];
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
  const bindAddress = opts.address === undefined ? DEFAULT_BIND_ADDRESS : parseBindAddress(opts.address);
  const plugin = opts.plugin === true;
  if (plugin && bindAddress !== DEFAULT_BIND_ADDRESS) {
    throw new UsageError(
      "--address needs the built-in client: the session-manager-plugin listens on localhost only",
      "leave out --plugin (-P) to listen on another address",
    );
  }
  const forwards = (opts.local ?? []).map(parseLocalForward);
  if (forwards.length > 0) return parseMultiForward(opts, profile, targetSpec, bindAddress, env);
  const { target, port } = parseForwardTarget(targetSpec);
  return {
    command: "forward",
    global: parseGlobalInput(opts, env),
    profile,
    target,
    remotePort: port,
    localPort: opts.port === undefined ? 0 : parseLocalPort(opts.port),
    remoteHost: parseRemoteHost(opts.host),
    plugin,
    bindAddress,
    forwards: [],
    reconnect: wantsReconnect(opts),
  };
}

/** The `-L` form: `target_spec` is the instance alone, each forward names its own destination. */
function parseMultiForward(
  opts: ForwardOptionValues,
  profile: string | undefined,
  targetSpec: string,
  bindAddress: string,
  env: Env,
): ForwardInput {
  for (const [flag, given] of [
    ["-p", opts.port],
    ["--host", opts.host],
  ] as const) {
    if (given !== undefined) throw new UsageError(`${flag} does not go with -L`, LOCAL_FORWARD_HINT);
  }
  if (opts.plugin === true) {
    throw new UsageError("-L needs the built-in client", "leave out --plugin (-P) to use -L");
  }
  // `i-0123...:80` would otherwise be taken for a tag key:value and fail in the lookup.
  const withPort = /^(.*):(\d+)$/.exec(targetSpec);
  if (withPort && isInstanceId(withPort[1] ?? "")) {
    throw new UsageError(
      `with -L the target_spec is the instance alone: ${JSON.stringify(targetSpec)} has a port`,
      `give the target as ${withPort[1]} and put ports in -L`,
    );
  }
  return {
    command: "forward",
    global: parseGlobalInput(opts, env),
    profile,
    target: parseShellTarget(targetSpec),
    remotePort: 0,
    localPort: 0,
    remoteHost: undefined,
    plugin: false,
    bindAddress,
    forwards: (opts.local ?? []).map(parseLocalForward),
    reconnect: wantsReconnect(opts),
  };
}

function wantsReconnect(opts: ForwardOptionValues): boolean {
  return opts.reconnect !== false && opts.noReconnect !== true;
}

/** `--port`: a whole number 1..65535. 0 is refused: a random port is what leaving -p out gives. */
export function parseLocalPort(text: string): number {
  const hint = "the local port must be a number 1-65535; leave out -p for a random port";
  if (!/^\d+$/.test(text.trim())) {
    throw new UsageError(`invalid --port ${JSON.stringify(text)}: not a number`, hint);
  }
  const port = Number(text.trim());
  if (port < 1 || port > MAX_PORT) throw new UsageError(`invalid --port ${text.trim()}: out of range`, hint);
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
