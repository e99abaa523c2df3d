/**
 * `--plugin` mode: hand an already started session to AWS's `session-manager-plugin`, the way
 * the AWS CLI does (ssm-protocol.md §10, cli-reference §4). Independent of how StartSession was
 * called: the caller passes plain values. Unlike the AWS CLI we put the resolved credentials in
 * the plugin's environment, so its own KMS / ResumeSession / TerminateSession calls use the
 * profile's credentials instead of the default chain.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import { RunasError } from "../errors.js";
import type { Logger } from "../log.js";

/** The plugin's executable name, looked up on PATH. */
export const PLUGIN_COMMAND = "session-manager-plugin";

/** Where to get the plugin; part of the "not found" hint. */
export const PLUGIN_INSTALL_URL =
  "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html";

/** The StartSession request as sent to SSM (the plugin reads `Target`; it must be present). */
export interface PluginStartSessionRequest {
  Target: string;
  DocumentName?: string;
  Parameters?: Record<string, string[]>;
  Reason?: string;
}

/** The fields of the StartSession response the plugin needs. */
export interface PluginStartedSession {
  sessionId: string;
  tokenValue: string;
  streamUrl: string;
}

/** Resolved AWS credentials (structurally the SDK's `AwsCredentialIdentity`). */
export interface PluginCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface PluginSessionOptions {
  request: PluginStartSessionRequest;
  started: PluginStartedSession;
  /** Region for all the plugin's SDK calls (SSM and KMS). */
  region: string;
  /** SSM endpoint URL, used by the plugin for ResumeSession / TerminateSession. */
  ssmEndpointUrl: string;
  credentials: PluginCredentials;
  /**
   * An interactive shell: the plugin owns the terminal (raw mode), so job-control keys belong to
   * the remote side and the parent also ignores SIGTSTP. Otherwise (forward, ssh) Ctrl-Z still
   * suspends the whole job as usual.
   */
  interactive: boolean;
  /** Environment to start from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Executable to run (default {@link PLUGIN_COMMAND} from PATH). */
  command?: string;
  logger?: Logger;
}

/**
 * The six arguments of the AWS CLI convention:
 * `<response JSON> <region> StartSession "" <request JSON> <ssm endpoint URL>`. The profile
 * argument stays empty: a profile there would take priority over the credentials we pass.
 */
export function pluginArguments(options: PluginSessionOptions): string[] {
  const response = {
    SessionId: options.started.sessionId,
    TokenValue: options.started.tokenValue,
    StreamUrl: options.started.streamUrl,
  };
  return [
    JSON.stringify(response),
    options.region,
    "StartSession",
    "",
    JSON.stringify(options.request),
    options.ssmEndpointUrl,
  ];
}

/**
 * The plugin's environment: ours plus the resolved credentials and region. Profile variables are
 * removed (the plugin's SDK would prefer the profile), and a stale session token from the parent
 * environment is dropped when the credentials have none.
 */
export function pluginEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  credentials: PluginCredentials,
  region: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) out[name] = value;
  }
  for (const name of ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"]) {
    delete out[name];
  }
  out["AWS_ACCESS_KEY_ID"] = credentials.accessKeyId;
  out["AWS_SECRET_ACCESS_KEY"] = credentials.secretAccessKey;
  if (credentials.sessionToken) out["AWS_SESSION_TOKEN"] = credentials.sessionToken;
  out["AWS_REGION"] = region;
  out["AWS_DEFAULT_REGION"] = region;
  return out;
}

/** Signals the parent ignores while the plugin runs: the plugin handles the keys itself. */
function ignoredSignals(interactive: boolean): NodeJS.Signals[] {
  if (process.platform === "win32") return ["SIGINT"];
  return interactive ? ["SIGINT", "SIGQUIT", "SIGTSTP"] : ["SIGINT", "SIGQUIT"];
}

/** Signals passed on to the plugin, so it can end the session instead of being orphaned. */
const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGHUP"];

/**
 * Runs `session-manager-plugin` with inherited stdio and resolves with its exit status
 * (128 + n when it was killed by signal n). Rejects with a one-line {@link RunasError} when the
 * plugin is missing (code `PLUGIN_NOT_FOUND`, with the install URL as hint) or cannot start.
 */
export function runSessionManagerPlugin(options: PluginSessionOptions): Promise<number> {
  const command = options.command ?? PLUGIN_COMMAND;
  const logger = options.logger;
  logger?.addSecret(options.started.tokenValue);
  logger?.addSecret(options.credentials.secretAccessKey);
  logger?.addSecret(options.credentials.sessionToken);
  // Never log the arguments: the first one carries the session token.
  logger?.debug(`starting ${command} for session ${options.started.sessionId}`);

  return new Promise<number>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(command, pluginArguments(options), {
        stdio: "inherit",
        env: pluginEnvironment(options.env ?? process.env, options.credentials, options.region),
      });
    } catch (error) {
      reject(
        new RunasError("PLUGIN_FAILED", `could not start ${command}: ${messageOf(error)}`, { cause: error }),
      );
      return;
    }
    // Installed in the same tick as the spawn, so no signal can slip in between.
    const ignore = () => {};
    const forward = (signal: NodeJS.Signals) => {
      child.kill(signal);
    };
    const ignored = ignoredSignals(options.interactive);
    const forwarded = process.platform === "win32" ? [] : FORWARDED_SIGNALS;
    for (const signal of ignored) process.on(signal, ignore);
    for (const signal of forwarded) process.on(signal, forward);
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      for (const signal of ignored) process.off(signal, ignore);
      for (const signal of forwarded) process.off(signal, forward);
      return true;
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (settle()) reject(spawnError(command, error));
    });
    child.once("exit", (code, signal) => {
      if (!settle()) return;
      const status = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1);
      logger?.debug(`${command} exited with status ${status}`);
      resolve(status);
    });
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function spawnError(command: string, error: NodeJS.ErrnoException): RunasError {
  if (error.code === "ENOENT") {
    return new RunasError("PLUGIN_NOT_FOUND", `${command} was not found on PATH`, {
      hint: `install the Session Manager plugin (${PLUGIN_INSTALL_URL}) or run without --plugin`,
      cause: error,
    });
  }
  if (error.code === "EACCES") {
    return new RunasError("PLUGIN_NOT_EXECUTABLE", `${command} is not executable`, {
      hint: `check the file's permissions, or reinstall it (${PLUGIN_INSTALL_URL})`,
      cause: error,
    });
  }
  return new RunasError("PLUGIN_FAILED", `could not start ${command}: ${error.message}`, { cause: error });
}
