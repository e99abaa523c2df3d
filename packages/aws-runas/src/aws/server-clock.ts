/**
 * The service's clock as seen from here: the offset between the `Date` headers of AWS responses
 * (and websocket upgrade responses) and the local clock. Credential expiry is judged on it, so a
 * local clock that is off — or the emulator's clock moved forward in tests — does not make us
 * call AWS with credentials it already considers expired. Headers have 1 s resolution, so
 * offsets below 2 s are treated as none.
 */
import type { DeserializeHandlerArguments, DeserializeHandlerOutput, MiddlewareStack } from "@smithy/types";

export class ServerClock {
  #offsetMs = 0;
  readonly #localNow: () => number;

  constructor(localNow: () => number = Date.now) {
    this.#localNow = localNow;
  }

  /** Milliseconds the service's clock is ahead of ours (negative: behind). */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** The service's current time in epoch milliseconds. */
  now(): number {
    return this.#localNow() + this.#offsetMs;
  }

  /** Learns from one `Date` header (RFC 7231 text); ignores missing or malformed values. */
  observe(dateHeader: string | undefined): void {
    if (!dateHeader) return;
    const server = Date.parse(dateHeader);
    if (Number.isNaN(server)) return;
    const offset = server - this.#localNow();
    // The header drops milliseconds: within 2 s of ours it tells nothing.
    this.#offsetMs = Math.abs(offset) < 2000 ? 0 : offset;
  }
}

/**
 * The clock every SDK client of this process feeds unless given its own: one process talks to
 * one service, and credentials (resolved before any session client exists) must see it too.
 */
export const processServerClock = new ServerClock();

function headerOf(response: unknown): string | undefined {
  const headers = (response as { headers?: Record<string, string | undefined> } | undefined)?.headers;
  return headers?.date ?? headers?.Date;
}

/** Adds a middleware that feeds every response's `Date` header (errors included) to `clock`. */
export function addServerClock<I extends object, O extends object>(
  stack: MiddlewareStack<I, O>,
  clock: ServerClock,
): void {
  stack.add(
    (next) =>
      async (args: DeserializeHandlerArguments<I>): Promise<DeserializeHandlerOutput<O>> => {
        try {
          const result = await next(args);
          clock.observe(headerOf(result.response));
          return result;
        } catch (error) {
          clock.observe(headerOf((error as { $response?: unknown }).$response));
          throw error;
        }
      },
    { step: "deserialize", priority: "high", name: "runasServerClock", override: true },
  );
}
