/**
 * One error hierarchy for the whole program.
 *
 * Every error we raise on purpose is a {@link RunasError} with a stable `code`, an `exitCode`
 * and an optional `hint`. Lower layers throw neutral errors that carry data; `src/cli` turns
 * them into one line (plus the hint) on stderr. Narrow with `instanceof`, never by message text.
 */

/** Process exit codes the CLI uses (documented in the README). */
export const ExitCode = {
  ok: 0,
  runtime: 1,
  usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface RunasErrorOptions {
  hint?: string;
  exitCode?: number;
  cause?: unknown;
  /** Trying the same thing again later may succeed (see {@link RunasError.retryable}). */
  retryable?: boolean;
}

/** Base class: a user-facing message, a stable code, an exit code and an optional hint. */
export class RunasError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly hint: string | undefined;
  /**
   * True when the failure says nothing final about the request — the network, throttling, a
   * server error — so a caller with time to spare (a resume loop) may try again. False for
   * definite answers. AWS failures get it from `src/aws/errors.ts`, the one place that decides.
   */
  readonly retryable: boolean;

  constructor(code: string, message: string, options: RunasErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.runtime;
    this.hint = options.hint;
    this.retryable = options.retryable ?? false;
  }
}

/** Bad command-line input: exit code 2. */
export class UsageError extends RunasError {
  constructor(message: string, hint?: string) {
    super("USAGE", message, { hint, exitCode: ExitCode.usage });
  }
}

/** Codes for malformed bytes from the network (see src/protocol). */
export type ProtocolErrorCode =
  | "PROTOCOL_TRUNCATED"
  | "PROTOCOL_BAD_HEADER_LENGTH"
  | "PROTOCOL_BAD_DIGEST"
  | "PROTOCOL_PAYLOAD_OVERFLOW"
  | "PROTOCOL_UNKNOWN_TYPE"
  | "PROTOCOL_BAD_FIELD"
  | "PROTOCOL_BAD_JSON"
  | "PROTOCOL_DECRYPT_FAILED";

/**
 * Raised only by decoders fed untrusted bytes. The data channel drops the offending message
 * (no ack), so the peer retransmits; it never ends a session by itself.
 */
export class ProtocolError extends RunasError {
  declare readonly code: ProtocolErrorCode;
  constructor(code: ProtocolErrorCode, message: string, cause?: unknown) {
    super(code, message, { cause });
  }
}

/** Stream multiplexer (smux) violations: the session is closed. */
export class MuxError extends RunasError {}

/** Data channel failures (retransmission limit, websocket lost for good, handshake failure...). */
export class ChannelError extends RunasError {}

/**
 * What an AWS failure means, decided by `classifyAwsError` in `src/aws/errors.ts`:
 * - `network`: no answer (DNS failure, refused or reset connection, timeout) — retryable
 * - `throttled`: too many requests — retryable
 * - `server`: a 5xx / internal error — retryable
 * - `unavailable`: the SSM agent is not connected now — retryable within a caller's window
 * - `credentials`: expired, unknown or badly signed credentials — final as they are
 * - `denied`: access denied — final
 * - `not-found`: unknown instance, session or document — final
 * - `invalid`: the request was malformed (validation) — final
 * - `config`: our side cannot make the call (bad endpoint URL, no credentials) — final
 * - `other`: anything unrecognised — final
 */
export type AwsErrorKind =
  | "network"
  | "throttled"
  | "server"
  | "unavailable"
  | "credentials"
  | "denied"
  | "not-found"
  | "invalid"
  | "config"
  | "other";

const RETRYABLE_AWS_KINDS: ReadonlySet<AwsErrorKind> = new Set([
  "network",
  "throttled",
  "server",
  "unavailable",
]);

/**
 * Failures of an AWS API call, translated at the `src/aws` boundary: keeps the AWS error name
 * (`awsCode`), and says what it means (`kind`, and from it `retryable`).
 */
export class AwsError extends RunasError {
  readonly awsCode: string;
  readonly kind: AwsErrorKind;
  constructor(
    awsCode: string,
    message: string,
    options: Omit<RunasErrorOptions, "retryable"> & { kind?: AwsErrorKind } = {},
  ) {
    const kind = options.kind ?? "other";
    super(`AWS_${awsCode}`, message, { ...options, retryable: RETRYABLE_AWS_KINDS.has(kind) });
    this.awsCode = awsCode;
    this.kind = kind;
  }
}

/** Exit code for any thrown value: ours carry one, anything else is a runtime failure. */
export function exitCodeFor(error: unknown): number {
  return error instanceof RunasError ? error.exitCode : ExitCode.runtime;
}
