/**
 * The request log behind `GET /_emulator/requests`: one entry per API call, and one per Flag
 * message a client sent on a data channel, for tests that check which calls a client made, with
 * which identity, and how it ended its sessions. Never holds secrets.
 */

export interface RequestLogEntry {
  /** ISO time on the emulator clock. */
  time: string;
  service: string;
  operation: string;
  accessKeyId: string | undefined;
  /** Principal ARN when the request authenticated. */
  principal: string | undefined;
  status: number;
  /** AWS error code for failed calls. */
  errorCode: string | undefined;
  requestId: string;
  /** The session the call was about (SSM `SessionId`, or the one StartSession created). */
  sessionId?: string | undefined;
  /**
   * For `service: "ssmmessages", operation: "Flag"`: the Flag message the client sent on the data
   * channel (`TerminateSession`, `DisconnectToPort`...), so tests see how a session was ended.
   */
  flag?: string | undefined;
}

/** A bounded in-memory log (oldest entries drop first). */
export class RequestLog {
  readonly #entries: RequestLogEntry[] = [];
  readonly #limit: number;

  constructor(limit = 10_000) {
    this.#limit = limit;
  }

  add(entry: RequestLogEntry): void {
    this.#entries.push(entry);
    if (this.#entries.length > this.#limit) this.#entries.splice(0, this.#entries.length - this.#limit);
  }

  entries(): RequestLogEntry[] {
    return [...this.#entries];
  }

  clear(): void {
    this.#entries.length = 0;
  }
}
