import type { Logger } from "@aws-runas/wire/log.js";
import { ConfigError } from "./errors.js";

/** Seconds per Go duration unit (`time.ParseDuration`). */
const UNIT_SECONDS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

const TERM = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/**
 * Parses a Go-style duration (`12h`, `90m`, `1h30m`, `3600s`, `1.5h`) into whole seconds
 * (fractions truncated). Returns `undefined` for text that is not a valid duration.
 * Like Go, a bare `0` is accepted and any other number needs a unit.
 */
export function parseGoDuration(text: string): number | undefined {
  let rest = text.trim();
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") return undefined;
  let total = 0;
  while (rest !== "") {
    const m = TERM.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_SECONDS[m[2] ?? ""] ?? Number.NaN);
    rest = rest.slice(m[0].length);
  }
  if (!Number.isFinite(total)) return undefined;
  // Round to micro-seconds first so `0.1h` (360.0000000001) is not cut to 359.
  return sign * Math.trunc(Math.round(total * 1e6) / 1e6);
}

/** Formats seconds the way Go prints a duration (`1h30m0s`), for log lines and messages. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.trunc(totalSeconds);
  const sign = s < 0 ? "-" : "";
  const abs = Math.abs(s);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const sec = abs % 60;
  if (h > 0) return `${sign}${h}h${m}m${sec}s`;
  if (m > 0) return `${sign}${m}m${sec}s`;
  return `${sign}${sec}s`;
}

/** Allowed range and default of one kind of credential lifetime, in seconds. */
export interface DurationLimits {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

/** STS GetSessionToken: 15 minutes to 36 hours, aws-runas default 12 hours. */
export const SESSION_TOKEN_LIMITS: DurationLimits = {
  label: "session token duration",
  min: 15 * 60,
  max: 36 * 3600,
  default: 12 * 3600,
};

/** STS AssumeRole: 15 minutes to 12 hours, default 1 hour. */
export const ROLE_LIMITS: DurationLimits = {
  label: "role credentials duration",
  min: 15 * 60,
  max: 12 * 3600,
  default: 3600,
};

/** A duration value together with where it came from (for messages). */
export interface DurationSource {
  readonly value: string;
  /** `--duration`, `SESSION_TOKEN_DURATION`, `credentials_duration in profile "x"`... */
  readonly origin: string;
  /** `duration_seconds` holds plain seconds, not a Go duration. */
  readonly plainSeconds?: boolean;
  /** Bad values from flags or the environment are usage errors. */
  readonly usage?: boolean;
}

/**
 * Picks the first given source, parses it and clamps it into `limits` (warning about a clamp);
 * no source gives the default.
 */
export function resolveDuration(
  sources: readonly (DurationSource | undefined)[],
  limits: DurationLimits,
  logger: Logger,
): number {
  const source = sources.find((s) => s !== undefined && s.value.trim() !== "");
  if (!source) return limits.default;
  const parsed = source.plainSeconds ? parsePlainSeconds(source.value) : parseGoDuration(source.value);
  if (parsed === undefined) {
    throw new ConfigError(
      "CONFIG_BAD_DURATION",
      `invalid ${limits.label} "${source.value}" (${source.origin})`,
      {
        hint: source.plainSeconds
          ? "use a whole number of seconds, e.g. 3600"
          : "use a Go-style duration such as 12h, 90m, 1h30m or 3600s",
        usage: source.usage,
      },
    );
  }
  return clampDuration(parsed, limits, logger, source.origin);
}

/**
 * Clamps seconds into `limits`, with a warning (one stderr line, at every verbosity) when the
 * value had to change: the user asked for a lifetime they will not get.
 */
export function clampDuration(
  seconds: number,
  limits: DurationLimits,
  logger: Logger,
  origin = "value",
): number {
  const clamped = Math.min(limits.max, Math.max(limits.min, seconds));
  if (clamped !== seconds) {
    logger.warn(
      `${limits.label} ${formatDuration(seconds)} (${origin}) is outside ${formatDuration(limits.min)}..${formatDuration(limits.max)}, using ${formatDuration(clamped)}`,
    );
  }
  return clamped;
}

function parsePlainSeconds(text: string): number | undefined {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : undefined;
}
