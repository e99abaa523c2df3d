/**
 * Logging to stderr with levels from `-v`, and redaction of secret values.
 *
 * Every secret the program learns (secret keys, session tokens, TokenValue, MFA codes) is
 * registered with {@link Logger.addSecret}; every line written is scrubbed of all of them, so a
 * debug trace that happens to include a request body can never print one.
 */

export type LogLevel = 0 | 1 | 2 | 3;

export interface Logger {
  /** Current verbosity: 0 quiet (errors and status only), 1 `-v`, 2 `-vv`, 3 `-vvv`. */
  readonly level: LogLevel;
  /** Status lines users always see (on stderr). */
  info(message: string): void;
  warn(message: string): void;
  /** `-v`: API calls, decisions. */
  debug(message: string): void;
  /** `-vv`: protocol events. */
  trace(message: string): void;
  /** Registers a value that must never be printed. Short values (< 4 chars) are ignored. */
  addSecret(value: string | undefined): void;
  /** Scrubs every registered secret (and well-known secret shapes) from a string. */
  redact(text: string): string;
}

const REDACTED = "****";
/** Secrets shorter than this are redacted as whole tokens only. */
const SHORT_SECRET = 12;

/** Field names whose values are secret wherever they appear as a JSON key or a `key=value` field. */
const SECRET_KEYS =
  "SecretAccessKey|SessionToken|TokenValue|aws_secret_access_key|aws_session_token|secretAccessKey|sessionToken|TokenCode|Plaintext";

/**
 * Values, never prose: a JSON member (`"SessionToken": "…"`, also inside an escaped JSON
 * string) or a `key=value` field (query strings, INI lines). The key must stand alone, so
 * `GetSessionToken: …` in an error message is left as it is.
 */
const SECRET_JSON = new RegExp(`((?<![\\w])\\\\?"(?:${SECRET_KEYS})\\\\?"\\s*:\\s*\\\\?")([^"\\\\]+)`, "g");
const SECRET_FIELD = new RegExp(`((?<![\\w-])(?:${SECRET_KEYS})[ \\t]*=[ \\t]*"?)([^\\s",}&]+)`, "g");
/** The session token header, in request dumps at the highest verbosity. */
const SECRET_HEADER = /((?<![\w-])x-amz-security-token\s*[:=]\s*)(\S+)/gi;

export function createLogger(level: LogLevel, write: (line: string) => void = defaultWrite): Logger {
  const secrets = new Set<string>();
  const redact = (text: string): string => {
    let out = text
      .replace(SECRET_JSON, `$1${REDACTED}`)
      .replace(SECRET_FIELD, `$1${REDACTED}`)
      .replace(SECRET_HEADER, `$1${REDACTED}`);
    for (const s of secrets) {
      if (!out.includes(s)) continue;
      // A short secret (an MFA code) is hidden only where it stands alone: "123456" inside an
      // account id "123456789012" is not the code. Long ones go wherever they appear.
      out =
        s.length < SHORT_SECRET
          ? out.replace(new RegExp(`(?<![0-9A-Za-z])${escapeRegExp(s)}(?![0-9A-Za-z])`, "g"), REDACTED)
          : out.split(s).join(REDACTED);
    }
    return out;
  };
  const emit = (prefix: string, message: string) => write(redact(prefix + message));
  return {
    level,
    info: (m) => emit("", m),
    warn: (m) => emit("warning: ", m),
    debug: (m) => {
      if (level >= 1) emit("debug: ", m);
    },
    trace: (m) => {
      if (level >= 2) emit("trace: ", m);
    },
    addSecret: (value) => {
      if (value && value.length >= 4) secrets.add(value);
    },
    redact,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function defaultWrite(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** A logger that prints nothing (tests, library use). */
export const silentLogger: Logger = createLogger(0, () => {});
