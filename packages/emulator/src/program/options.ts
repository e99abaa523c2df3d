/**
 * Pure parsing of the `aws-runas-emulator` command line:
 *
 * ```
 * aws-runas-emulator [--port N] [--fixture FILE] [--dns-port N] [--pacing realistic|none]
 *                    [--fault SPEC ...] [--state-dir DIR]
 * ```
 *
 * commander collects the raw strings; this module turns them into typed values or throws a
 * {@link UsageError} naming the bad option.
 */
import { UsageError } from "@aws-runas/wire/errors.js";

/** `realistic` copies the real agent's 1 KiB reads with a 1 ms pause; `none` runs at full speed. */
export const PacingModes = ["realistic", "none"] as const;
export type Pacing = (typeof PacingModes)[number];

/**
 * Faults injected for reliability tests (`--fault SPEC`, repeatable). The emulator's API applies
 * `refuseResume` and `targetNotConnected`; the websocket gateway applies the others.
 */
export interface FaultConfig {
  /** `drop-websocket-after=N`: the gateway drops the client's websocket after relaying N messages. */
  dropWebsocketAfter: number | undefined;
  /** `duplicate=P`: percentage (0-100) of frames toward the client sent twice. */
  duplicatePercent: number;
  /** `reorder=P`: percentage (0-100) of frames toward the client swapped with the next one. */
  reorderPercent: number;
  /** `delay=MS`: delay added to every frame toward the client. */
  delayMs: number;
  /** `corrupt-digest=N`: the N-th message toward the client (1-based) gets a wrong digest. */
  corruptDigest: number | undefined;
  /**
   * `recycle-websocket-every=SECONDS`: the gateway ends each client websocket this long after it
   * opened with a clean close (1000, "Bye"), as the real service does about hourly; the agent
   * side stays and the client has to resume.
   */
  recycleWebsocketEverySeconds: number | undefined;
  /**
   * `outage-after=SECONDS,seconds=S` (or `outage=AFTER:S`): SECONDS after start the network
   * "goes away" for S seconds: the client's websockets are cut, and the API and the gateway accept
   * TCP connections and drop them at once. The agent side stays. Repeatable.
   */
  outages: Outage[];
  /** `refuse-resume`: ResumeSession answers without a TokenValue (the "session timed out" reply). */
  refuseResume: boolean;
  /** `target-not-connected=<id>` (repeatable): StartSession to these targets fails with TargetNotConnected. */
  targetNotConnected: string[];
}

/** One network outage: from `afterSeconds` after the emulator started, for `seconds`. */
export interface Outage {
  afterSeconds: number;
  seconds: number;
}

/** A configuration with no faults. */
export function noFaults(): FaultConfig {
  return {
    dropWebsocketAfter: undefined,
    duplicatePercent: 0,
    reorderPercent: 0,
    delayMs: 0,
    corruptDigest: undefined,
    recycleWebsocketEverySeconds: undefined,
    outages: [],
    refuseResume: false,
    targetNotConnected: [],
  };
}

const FAULT_HELP =
  "faults: drop-websocket-after=N, duplicate=P, reorder=P, delay=MS, corrupt-digest=N, recycle-websocket-every=SECONDS, outage=AFTER:SECONDS (or outage-after=N,seconds=S), refuse-resume, target-not-connected=ID";

function wholeNumber(text: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${what} must be a whole number from ${min} to ${max} (got "${text}")`);
  }
  return Number(text);
}

function seconds(text: string, what: string): number {
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0 || Number(text) > 86_400) {
    throw new UsageError(`${what} must be a number of seconds above 0, at most 86400 (got "${text}")`);
  }
  return Number(text);
}

function percent(text: string, what: string): number {
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) > 100) {
    throw new UsageError(`${what} must be a percentage from 0 to 100 (got "${text}")`);
  }
  return Number(text);
}

/** Applies one fault spec (`name` or `name=value`) to a copy of `faults`. */
export function parseFaultSpec(spec: string, faults: FaultConfig = noFaults()): FaultConfig {
  const eq = spec.indexOf("=");
  const name = (eq < 0 ? spec : spec.slice(0, eq)).trim();
  const value = eq < 0 ? undefined : spec.slice(eq + 1).trim();
  const what = `--fault ${name}`;
  const needValue = (): string => {
    if (value === undefined || value === "")
      throw new UsageError(`${what} needs a value (${name}=...)`, FAULT_HELP);
    return value;
  };
  const next: FaultConfig = {
    ...faults,
    targetNotConnected: [...faults.targetNotConnected],
    outages: [...faults.outages],
  };
  switch (name) {
    case "drop-websocket-after":
      next.dropWebsocketAfter = wholeNumber(needValue(), what, 1, Number.MAX_SAFE_INTEGER);
      break;
    case "duplicate":
      next.duplicatePercent = percent(needValue(), what);
      break;
    case "reorder":
      next.reorderPercent = percent(needValue(), what);
      break;
    case "delay":
      next.delayMs = wholeNumber(needValue(), what, 0, 60_000);
      break;
    case "corrupt-digest":
      next.corruptDigest = wholeNumber(needValue(), what, 1, Number.MAX_SAFE_INTEGER);
      break;
    case "recycle-websocket-every":
      next.recycleWebsocketEverySeconds = seconds(needValue(), what);
      break;
    case "outage": {
      const [after, length, extra] = needValue().split(":");
      if (after === undefined || length === undefined || extra !== undefined)
        throw new UsageError(`${what} must look like outage=AFTER:SECONDS (got "${value}")`, FAULT_HELP);
      next.outages.push({
        afterSeconds: seconds(after, `${what} AFTER`),
        seconds: seconds(length, `${what} SECONDS`),
      });
      break;
    }
    case "outage-after":
      // `outage-after=N,seconds=S`: the comma makes `seconds=S` a spec of its own (below).
      next.outages.push({ afterSeconds: seconds(needValue(), what), seconds: 60 });
      break;
    case "seconds": {
      const last = next.outages.at(-1);
      if (!last) throw new UsageError("--fault seconds=S must follow outage-after=N", FAULT_HELP);
      next.outages[next.outages.length - 1] = { ...last, seconds: seconds(needValue(), what) };
      break;
    }
    case "refuse-resume":
      if (value !== undefined) throw new UsageError(`${what} takes no value`, FAULT_HELP);
      next.refuseResume = true;
      break;
    case "target-not-connected": {
      const id = needValue();
      if (!/^m?i-[0-9a-fA-F]{8,}$/.test(id))
        throw new UsageError(`${what} needs an instance id (got "${id}")`);
      next.targetNotConnected.push(id);
      break;
    }
    default:
      throw new UsageError(`unknown fault "${name}"`, FAULT_HELP);
  }
  return next;
}

/** Parses every `--fault` value; each may also hold several specs separated by commas. */
export function parseFaults(specs: readonly string[]): FaultConfig {
  let faults = noFaults();
  for (const spec of specs.flatMap((s) => s.split(","))) {
    if (spec.trim() !== "") faults = parseFaultSpec(spec, faults);
  }
  return faults;
}

/** The option strings as commander hands them over. */
export interface RawEmulatorOptions {
  port?: string;
  fixture?: string;
  dnsPort?: string;
  pacing?: string;
  fault?: string[];
  stateDir?: string;
  requireSignedChannel?: boolean;
}

/** Typed emulator options. */
export interface EmulatorOptions {
  /** API port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** `--fixture FILE`; the default fixture when absent. */
  fixturePath: string | undefined;
  /** DNS server port on 127.0.0.1; 0 picks a free one. */
  dnsPort: number;
  pacing: Pacing;
  faults: FaultConfig;
  /** Where config, credentials and state files go; a fresh temp dir (removed on exit) when absent. */
  stateDir: string | undefined;
  /** `--require-signed-channel`: refuse unsigned data-channel upgrades. */
  requireSignedChannel: boolean;
}

function port(text: string | undefined, option: string): number {
  return text === undefined ? 0 : wholeNumber(text, option, 0, 65535);
}

/** Turns commander's raw option strings into {@link EmulatorOptions}. */
export function parseEmulatorOptions(raw: RawEmulatorOptions): EmulatorOptions {
  const pacing = raw.pacing ?? "none";
  if (!(PacingModes as readonly string[]).includes(pacing)) {
    throw new UsageError(`--pacing must be "realistic" or "none" (got "${pacing}")`);
  }
  if (raw.fixture === "") throw new UsageError("--fixture needs a file name");
  if (raw.stateDir === "") throw new UsageError("--state-dir needs a directory");
  return {
    port: port(raw.port, "--port"),
    fixturePath: raw.fixture,
    dnsPort: port(raw.dnsPort, "--dns-port"),
    pacing: pacing as Pacing,
    faults: parseFaults(raw.fault ?? []),
    stateDir: raw.stateDir,
    requireSignedChannel: raw.requireSignedChannel ?? false,
  };
}
