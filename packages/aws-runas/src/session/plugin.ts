/**
 * `--plugin` mode: hand an already started session to AWS's `session-manager-plugin`, the way
 * the AWS CLI does (ssm-protocol.md §10, cli-reference §4). Independent of how StartSession was
 * called: the caller passes plain values. Unlike the AWS CLI we put the resolved credentials in
 * the plugin's environment, so its own KMS / ResumeSession / TerminateSession calls use the
 * profile's credentials instead of the default chain.
 *
 * ```
 *  preparePlugin: session-manager-plugin --version  (before StartSession: a missing plugin starts nothing)
 *      > 1.2.497.0 ─► argv[1] = "AWS_SSM_START_SESSION_RESPONSE", the response JSON in that variable
 *      otherwise   ─► the response JSON as argv[1] (visible in ps): warned
 *      < 1.2.764.0 (AWS's minimum supported) ─► warned, still run
 *  runSessionManagerPlugin: the six arguments, inherited stdio, its exit status
 * ```
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { constants } from "node:os";
import { RunasError } from "@aws-runas/wire/errors.js";
import type { Logger } from "@aws-runas/wire/log.js";

/** The plugin's executable name, looked up on PATH. */
export const PLUGIN_COMMAND = "session-manager-plugin";

/** Where to get the plugin; part of the "not found" hint. */
export const PLUGIN_INSTALL_URL =
  "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html";

/** The variable the response JSON travels in for plugins newer than {@link LAST_PLUGIN_VERSION_WITHOUT_ENV}. */
export const RESPONSE_ENV = "AWS_SSM_START_SESSION_RESPONSE";

/** The newest plugin that only takes the response as argv[1] (the AWS CLI's rule, ssm-protocol.md §10). */
export const LAST_PLUGIN_VERSION_WITHOUT_ENV = "1.2.497.0";

/** The oldest plugin version AWS supports. */
export const MIN_SUPPORTED_PLUGIN_VERSION = "1.2.764.0";

/** How the StartSession response reaches the plugin. */
export type ResponsePassing = "env" | "argv";

/** A plugin found on PATH that answered `--version`. */
export interface PreparedPlugin {
  command: string;
  /** What `--version` printed, when it looked like a version. */
  version: string | null;
  passing: ResponsePassing;
}

/** Compares dotted numeric versions component by component (missing components count as 0). */
export function comparePluginVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** The version in `session-manager-plugin --version` output (`1.2.764.0\n`), or null. */
export function parsePluginVersion(output: string): string | null {
  return /^\s*v?(\d+(?:\.\d+)+)\s*$/.exec(output)?.[1] ?? null;
}

/** How to pass the response to a plugin of `version`, and the one warning line it deserves. Pure. */
export function pluginVersionPlan(
  command: string,
  version: string | null,
): { passing: ResponsePassing; warning?: string } {
  const upgrade = `upgrade it: ${PLUGIN_INSTALL_URL}`;
  if (version === null) {
    return {
      passing: "env",
      warning: `could not read the version of ${command}; passing the session to it in ${RESPONSE_ENV}`,
    };
  }
  if (comparePluginVersions(version, LAST_PLUGIN_VERSION_WITHOUT_ENV) <= 0) {
    return {
      passing: "argv",
      warning: `${command} ${version} takes the session token on its command line, where any local user can read it (ps); ${upgrade}`,
    };
  }
  if (comparePluginVersions(version, MIN_SUPPORTED_PLUGIN_VERSION) < 0) {
    return {
      passing: "env",
      warning: `${command} ${version} is older than ${MIN_SUPPORTED_PLUGIN_VERSION}, the oldest version AWS supports; ${upgrade}`,
    };
  }
  return { passing: "env" };
}

export interface PreparePluginOptions {
  env?: Readonly<Record<string, string | undefined>>;
  command?: string;
  logger?: Logger;
  timeoutMs?: number;
}

/**
 * Looks for the plugin and asks its version, as the AWS CLI does before it runs it. Call it before
 * StartSession: a plugin that is missing or cannot run rejects with one {@link RunasError} line
 * and hint, and no session has been started for it.
 */
export function preparePlugin(options: PreparePluginOptions = {}): Promise<PreparedPlugin> {
  const command = options.command ?? PLUGIN_COMMAND;
  const env = definedOnly(options.env ?? process.env);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    execFile(
      command,
      ["--version"],
      { env, timeout: timeoutMs, maxBuffer: 64 * 1024, encoding: "utf8" },
      (error, stdout) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (typeof code === "string") {
            reject(spawnError(command, error as NodeJS.ErrnoException));
            return;
          }
          const how = error.killed
            ? `did not answer within ${timeoutMs / 1000} s`
            : error.signal
              ? `was killed by ${error.signal}`
              : `exited with status ${error.code}`;
          reject(
            new RunasError("PLUGIN_FAILED", `${command} --version ${how}`, {
              hint: `reinstall the Session Manager plugin (${PLUGIN_INSTALL_URL}) or run without --plugin`,
              cause: error,
            }),
          );
          return;
        }
        const version = parsePluginVersion(stdout);
        const plan = pluginVersionPlan(command, version);
        options.logger?.debug(`${command} --version: ${version ?? JSON.stringify(stdout.slice(0, 80))}`);
        if (plan.warning) options.logger?.warn(plan.warning);
        resolve({ command, version, passing: plan.passing });
      },
    );
  });
}

function definedOnly(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) out[name] = value;
  return out;
}

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
  /** How the response reaches the plugin (from {@link preparePlugin}; default "env"). */
  passing?: ResponsePassing;
  logger?: Logger;
}

/** The StartSession response as the plugin reads it. */
export function responseJson(options: PluginSessionOptions): string {
  return JSON.stringify({
    SessionId: options.started.sessionId,
    TokenValue: options.started.tokenValue,
    StreamUrl: options.started.streamUrl,
  });
}

/**
 * The six arguments of the AWS CLI convention:
 * `<response> <region> StartSession "" <request JSON> <ssm endpoint URL>`, where `<response>` is
 * the literal {@link RESPONSE_ENV} (the JSON is in that variable) or, for old plugins, the JSON
 * itself. The profile argument stays empty: a profile there would take priority over the
 * credentials we pass.
 */
export function pluginArguments(options: PluginSessionOptions): string[] {
  return [
    (options.passing ?? "env") === "env" ? RESPONSE_ENV : responseJson(options),
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
  /** The response JSON, when it is passed in {@link RESPONSE_ENV}. */
  response?: string,
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
  // Only ever the response of this session (a stale one from our own environment must not leak in).
  delete out[RESPONSE_ENV];
  if (response !== undefined) out[RESPONSE_ENV] = response;
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
  // Never log the arguments or the environment: they carry the session token.
  logger?.debug(`starting ${command} for session ${options.started.sessionId}`);

  return new Promise<number>((resolve, reject) => {
    let child: ChildProcess;
    try {
      const response = (options.passing ?? "env") === "env" ? responseJson(options) : undefined;
      child = spawn(command, pluginArguments(options), {
        stdio: "inherit",
        env: pluginEnvironment(options.env ?? process.env, options.credentials, options.region, response),
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
