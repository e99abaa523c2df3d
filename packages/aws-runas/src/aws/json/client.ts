/**
 * A client of one AWS JSON 1.1 service that behaves as an SDK client built by ../clients.ts
 * does: the same boundary (debug log line, classified errors, credentials renewed once), SigV4
 * at the service's clock, and the SDK's standard retries. It exists so the forwarder need not
 * load a whole SDK client package for a handful of SSM operations (issue #17).
 */
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { Logger } from "@aws-runas/wire/log.js";
import type { Clock, Entropy, TimerHandle } from "../../datachannel/clock.js";
import { boundedCall, type RenewCredentials } from "../call-log.js";
import { isClockSkewError } from "../errors.js";
import type { ServerClock } from "../server-clock.js";
import type { CredentialSource } from "./credentials.js";
import { abortError, exchange, type HttpSettings } from "./exchange.js";
import { decodeAnswer, encodeRequest, type ResponseMetadata } from "./protocol.js";
import { backoffMs, DEFAULT_MAX_ATTEMPTS, type RetryKind, retryKindOf } from "./retry.js";
import { signRequest } from "./sign.js";

/** How a service is called: its log label, credential-scope name and `X-Amz-Target` prefix. */
export interface JsonService {
  readonly label: string;
  readonly signingName: string;
  readonly targetPrefix: string;
}

export interface JsonClientOptions {
  readonly service: JsonService;
  readonly region: string;
  readonly endpoint: URL;
  readonly credentials: CredentialSource;
  readonly http: HttpSettings;
  readonly logger: Logger;
  /** Attempts per call, the first included (default 3, as the SDK). */
  readonly maxAttempts?: number;
  /** Milliseconds added to the local clock when signing, until the service's clock is known. */
  readonly systemClockOffset?: number;
  readonly renewCredentials?: RenewCredentials | undefined;
  /** Fed every answer's `Date`; signing uses the offset it learned. */
  readonly serverClock: ServerClock;
  /** Waits between attempts. */
  readonly clock: Clock;
  /** The back-off jitter. */
  readonly entropy: Entropy;
}

export interface CallOptions {
  /** Ends the call (an attempt under way or the wait before the next) with an `AbortError`. */
  readonly abortSignal?: AbortSignal;
}

/** The SDK's threshold: a service clock this far from the signing clock is a skew, whatever the error. */
const CLOCK_CORRECTION_MS = 5 * 60_000;

interface Answered {
  readonly output: Record<string, unknown>;
  readonly $metadata: ResponseMetadata;
}

export class JsonClient {
  readonly #options: JsonClientOptions;
  readonly #http: HttpSettings & { httpAgent: HttpAgent; httpsAgent: HttpsAgent };

  constructor(options: JsonClientOptions) {
    this.#options = options;
    // Kept-alive connections, as the SDK's handler keeps them (idle sockets do not hold the process).
    this.#http = {
      ...options.http,
      httpAgent: options.http.httpAgent ?? new HttpAgent({ keepAlive: true }),
      httpsAgent: options.http.httpsAgent ?? new HttpsAgent({ keepAlive: true }),
    };
  }

  /** Calls `operation` with `input`; resolves with the output object, or throws an AwsError. */
  async call(operation: string, input: object, options: CallOptions = {}): Promise<Record<string, unknown>> {
    const { service, logger, renewCredentials } = this.#options;
    const answered = await boundedCall(
      { operation: `${service.label} ${operation}`, logger, renew: renewCredentials },
      () => this.#withRetries(operation, input, options.abortSignal),
      (result) => result.$metadata,
    );
    return answered.output;
  }

  /** Closes kept-alive connections. */
  destroy(): void {
    this.#http.httpAgent.destroy();
    this.#http.httpsAgent.destroy();
  }

  async #withRetries(operation: string, input: object, signal: AbortSignal | undefined): Promise<Answered> {
    const maxAttempts = Math.max(1, this.#options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    let totalRetryDelay = 0;
    for (let attempt = 1; ; attempt++) {
      // Outside the retries: a credentials provider's failure is its own answer, and final.
      const credentials = await this.#options.credentials();
      const offset = this.#signingOffsetMs();
      try {
        const output = await this.#attempt(operation, input, credentials, offset, signal);
        return {
          output: output.output,
          $metadata: { ...output.$metadata, attempts: attempt, totalRetryDelay },
        };
      } catch (error) {
        addAttempts(error, attempt, totalRetryDelay);
        // The caller gave up on the call: no new attempt.
        if (signal?.aborted) throw error;
        const kind: RetryKind | undefined = this.#clockCorrected(error, offset)
          ? "transient"
          : retryKindOf(error);
        if (kind === undefined || attempt >= maxAttempts) throw error;
        const delay = backoffMs(kind, attempt, this.#options.entropy.random());
        await this.#wait(delay, signal);
        totalRetryDelay += delay;
      }
    }
  }

  async #attempt(
    operation: string,
    input: object,
    credentials: Awaited<ReturnType<CredentialSource>>,
    offsetMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Answered> {
    const { service, endpoint, region, serverClock } = this.#options;
    const request = encodeRequest(service.targetPrefix, operation, input);
    const headers = await signRequest({
      url: endpoint,
      headers: request.headers,
      body: request.body,
      region,
      service: service.signingName,
      credentials,
      date: new Date(Date.now() + offsetMs),
    });
    const answer = await exchange(
      { url: endpoint, method: "POST", headers, body: request.body },
      this.#http,
      signal,
    );
    serverClock.observe(answer.headers.date);
    const output = decodeAnswer(answer);
    const requestId = answer.headers["x-amzn-requestid"];
    return { output, $metadata: { httpStatusCode: answer.status, ...(requestId ? { requestId } : {}) } };
  }

  /**
   * As the SDK's "clock skew corrected" retry: the answer's `Date` moved the signing clock — by
   * any amount for a signing-time error, by 5 minutes or more for any other (say, credentials
   * that expired on the service's clock but not on ours): the next attempt signs, and judges its
   * credentials' expiry, at the corrected time.
   */
  #clockCorrected(error: unknown, signedAtOffsetMs: number): boolean {
    const moved = Math.abs(this.#signingOffsetMs() - signedAtOffsetMs);
    return moved > 0 && (isClockSkewError(error) || moved >= CLOCK_CORRECTION_MS);
  }

  /** The service's clock once learned (from any answer of this process), else the configured offset. */
  #signingOffsetMs(): number {
    const learned = this.#options.serverClock.offsetMs;
    return learned !== 0 ? learned : (this.#options.systemClockOffset ?? 0);
  }

  #wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const onAbort = () => {
        timer?.cancel();
        reject(abortError(signal));
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      timer = this.#options.clock.after(ms, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      // Aborted while the timer was being set: it must not hold the process for nothing.
      if (signal?.aborted) timer.cancel();
    });
  }
}

/** As the SDK does: a failed call's error says how many attempts it took. */
function addAttempts(error: unknown, attempts: number, totalRetryDelay: number): void {
  if (typeof error !== "object" || error === null || !Object.isExtensible(error)) return;
  const withMeta = error as { $metadata?: ResponseMetadata };
  withMeta.$metadata = { ...withMeta.$metadata, attempts, totalRetryDelay };
}
