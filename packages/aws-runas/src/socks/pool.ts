/**
 * The pool of destination sessions behind `ssm socks`: one remote-host session per destination
 * host:port, shared by every connection to it (each connection is a new smux stream). A session
 * nobody uses for `idleMs` is terminated; at most `maxSessions` exist at once (an idle one is
 * given up to make room; when none is idle the connection gets {@link PoolFullError}).
 *
 * Whether a stream reached its destination (see {@link PooledDestination.connect}): the agent
 * reports a failed dial with Flag ConnectToPortError and then closes the stream; a successful
 * dial is not reported at all. So a stream counts as connected on its first byte from the
 * destination, or when `confirmMs` pass without a failure. Once a destination has sent data on
 * any stream, later streams are taken as connected at once (no wait): a pooled destination costs
 * no extra round trip, and the rare late failure shows up as a connection closed right away.
 */
import type { Socket } from "node:net";
import { RunasError } from "@aws-runas/wire/errors.js";
import type { Logger } from "@aws-runas/wire/log.js";
import { type Clock, systemClock } from "../datachannel/clock.js";
import type { MuxStream } from "../mux/index.js";
import { reset } from "../session/reset.js";
import { Reply, type ReplyCode } from "./codec.js";
import type { Destination, DestinationSession, OpenDestination } from "./destination.js";
import { CONNECT_ERROR_REPLY, replyForAgentMessage, replyForStartError } from "./replies.js";

export interface PoolOptions {
  open: OpenDestination;
  maxSessions: number;
  /** A session without connections for this long is terminated. */
  idleMs: number;
  /** Lower and upper bound of the connect window (scaled from the session's handshake time). */
  confirmMs?: { min: number; max: number };
  logger: Logger;
  /** Idle timeouts and the connect window run on the client's one clock (default: system). */
  clock?: Clock;
}

/** Every session slot is busy: no new destination can be opened right now. */
export class PoolFullError extends RunasError {
  constructor(max: number) {
    super("SOCKS_POOL_FULL", `all ${max} destination sessions are in use (--max-sessions)`);
  }
}

export function destinationKey(d: Destination): string {
  return `${d.host.toLowerCase()}|${d.port}`;
}

/** The outcome of opening a connection to a destination. */
export type ConnectOutcome =
  | {
      readonly ok: true;
      readonly sessionId: string;
      /**
       * Joins the stream and the client's socket both ways (call it right after writing the
       * success reply). Until then the stream holds what the destination sent.
       */
      readonly attach: (socket: Socket) => void;
    }
  | { readonly ok: false; readonly reply: ReplyCode; readonly reason: string };

export class SessionPool {
  readonly #options: PoolOptions;
  readonly #clock: Clock;
  readonly #entries = new Map<string, PooledDestination>();
  #closed = false;

  constructor(options: PoolOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Sessions that exist or are starting. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Opens a connection to `destination`: on its pooled session, or on a new one. Never throws;
   * failures come back as the SOCKS reply to send.
   */
  async connect(destination: Destination): Promise<ConnectOutcome> {
    const outcome = await this.#connectOnce(destination);
    // The pooled session ended (service idle timeout, resume given up) just before this
    // connection could use it: one new session, rather than failing a connection nobody sent yet.
    if (!outcome.ok && outcome.retry && !this.#closed) return this.#connectOnce(destination);
    return outcome;
  }

  async #connectOnce(destination: Destination): Promise<ConnectOutcome & { retry?: boolean }> {
    if (this.#closed) return { ok: false, reply: Reply.generalFailure, reason: "the proxy is stopping" };
    let entry = this.#entries.get(destinationKey(destination));
    if (!entry) {
      if (this.#entries.size >= this.#options.maxSessions && !this.#evictIdle()) {
        const error = new PoolFullError(this.#options.maxSessions);
        return { ok: false, reply: Reply.generalFailure, reason: error.message };
      }
      entry = new PooledDestination(destination, this.#options, this.#clock, (e) => this.#forget(e));
      this.#entries.set(entry.key, entry);
    }
    return entry.connect();
  }

  /** Terminates every session (Ctrl-C). */
  async closeAll(): Promise<void> {
    this.#closed = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((e) => e.close()));
  }

  #forget(entry: PooledDestination): void {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
  }

  /** Gives up the least recently used idle session; false when every session is busy. */
  #evictIdle(): boolean {
    let oldest: PooledDestination | undefined;
    for (const e of this.#entries.values()) {
      if (e.idle && (!oldest || e.lastUsed < oldest.lastUsed)) oldest = e;
    }
    if (!oldest) return false;
    this.#options.logger.debug(`socks: closing idle session to ${oldest.label} to make room`);
    this.#forget(oldest);
    void oldest.close();
    return true;
  }
}

/** One destination's session and the bookkeeping of its streams. */
class PooledDestination {
  readonly key: string;
  readonly label: string;
  readonly #options: PoolOptions;
  readonly #clock: Clock;
  readonly #forget: (e: PooledDestination) => void;
  readonly #session: Promise<DestinationSession>;
  #live: DestinationSession | undefined;
  #active = 0;
  #cancelIdle: (() => void) | undefined;
  /** A stream of this destination has carried data from it: the dial works. */
  #knownGood = false;
  /** ConnectToPortError flags not yet matched with the stream they were about. */
  #pendingFailures = 0;
  lastUsed = Date.now();

  constructor(
    destination: Destination,
    options: PoolOptions,
    clock: Clock,
    forget: (e: PooledDestination) => void,
  ) {
    this.key = destinationKey(destination);
    this.label = destination.host.includes(":")
      ? `[${destination.host}]:${destination.port}`
      : `${destination.host}:${destination.port}`;
    this.#options = options;
    this.#clock = clock;
    this.#forget = forget;
    this.#session = options.open(destination).then(
      (session) => {
        this.#live = session;
        options.logger.debug(`socks: session ${session.sessionId} to ${this.label} is ready`);
        session.on("connectError", () => {
          this.#pendingFailures++;
          this.#knownGood = false;
        });
        session.once("end", (reason) => {
          options.logger.debug(`socks: session ${session.sessionId} to ${this.label} ended ${reason}`);
          this.#cancelIdle?.();
          this.#forget(this);
        });
        if (this.#active === 0) this.#armIdle();
        return session;
      },
      (error: unknown) => {
        // Not pooled: the next connection tries again with a new session.
        this.#forget(this);
        throw error;
      },
    );
    // Waiters handle the rejection; this keeps an unobserved one from crashing the process.
    this.#session.catch(() => {});
  }

  get idle(): boolean {
    return this.#live !== undefined && this.#active === 0;
  }

  async connect(): Promise<ConnectOutcome & { retry?: boolean }> {
    this.#active++;
    this.#cancelIdle?.();
    this.#cancelIdle = undefined;
    this.lastUsed = Date.now();
    let session: DestinationSession;
    try {
      session = await this.#session;
    } catch (error) {
      this.#release();
      return { ok: false, reply: replyForStartError(error), reason: (error as Error).message };
    }
    if (session.ended || session.mux.closed) {
      this.#forget(this);
      this.#release();
      const reason = `session ${session.sessionId} has ended`;
      return { ok: false, reply: Reply.generalFailure, reason, retry: true };
    }
    let stream: MuxStream;
    try {
      stream = session.mux.openStream();
    } catch (error) {
      this.#forget(this);
      this.#release();
      return { ok: false, reply: Reply.generalFailure, reason: (error as Error).message, retry: true };
    }
    const reply = await this.#confirm(session, stream);
    if (reply !== Reply.succeeded) {
      stream.destroy();
      this.#release();
      const reason = session.endReason || `the instance could not connect to ${this.label}`;
      return { ok: false, reply, reason };
    }
    return { ok: true, sessionId: session.sessionId, attach: (socket) => this.#attach(stream, socket) };
  }

  close(): Promise<void> {
    this.#cancelIdle?.();
    this.#forget(this);
    return this.#session.then(
      (s) => s.close(),
      () => {},
    );
  }

  /** Waits until `stream` is known connected, failed, or the connect window has passed. */
  #confirm(session: DestinationSession, stream: MuxStream): Promise<ReplyCode> {
    if (this.#knownGood) return Promise.resolve(Reply.succeeded);
    // The handshake took a few round trips to the agent (websocket, request, response); a failed
    // dial's flag comes back one round trip plus the dial after the SYN.
    const { min, max } = this.#options.confirmMs ?? { min: 50, max: 1000 };
    const windowMs = Math.min(max, Math.max(min, session.handshakeMs));
    return new Promise<ReplyCode>((resolve) => {
      let cancelTimer: () => void = () => {};
      const finish = (code: ReplyCode) => {
        cancelTimer();
        stream.off("readable", onReadable);
        stream.off("close", onClose);
        resolve(code);
      };
      const onReadable = () => {
        if (stream.readableLength > 0) {
          this.#knownGood = true;
          finish(Reply.succeeded);
        } else if (stream.muxState !== "open") {
          // FIN without a byte: the dial failed if the agent said so first (it sends the flag,
          // then closes the stream); otherwise the destination accepted and closed at once.
          finish(this.#takeFailure() ? CONNECT_ERROR_REPLY : Reply.succeeded);
        }
      };
      const onClose = () => {
        // Destroyed before any answer: the session went away (the agent may say why, e.g.
        // "Forwarding to IP address ... is forbidden."), or a late flag explains it.
        if (session.ended)
          finish(session.endReason ? replyForAgentMessage(session.endReason) : Reply.generalFailure);
        else finish(this.#takeFailure() ? CONNECT_ERROR_REPLY : Reply.generalFailure);
      };
      stream.on("readable", onReadable);
      stream.once("close", onClose);
      const window = this.#clock.after(windowMs, () => finish(Reply.succeeded));
      cancelTimer = () => window.cancel();
    });
  }

  /**
   * Both directions with back-pressure; each side's end becomes the other's FIN / EOF. Data from
   * the destination proves it; a stream that ends without a byte may settle a late flag.
   */
  #attach(stream: MuxStream, socket: Socket): void {
    let received = 0;
    stream.on("data", (chunk: Buffer) => {
      if (received === 0) this.#knownGood = true;
      received += chunk.length;
    });
    stream.once("end", () => {
      if (received === 0) this.#takeFailure();
    });
    stream.once("close", () => {
      this.#release();
      // Torn down without a FIN (session closing, Ctrl-C): neither leave the client hanging nor
      // end it with a FIN as if complete — reset it, as `ssm forward` does.
      if (!socket.writableEnded) reset(socket);
    });
    stream.on("error", () => reset(socket));
    socket.on("error", () => stream.destroy());
    socket.once("close", () => stream.destroy());
    // The client may have gone while the reply was pending: its close event is past.
    if (socket.destroyed) {
      stream.destroy();
      return;
    }
    stream.pipe(socket);
    socket.pipe(stream);
    socket.resume();
  }

  #takeFailure(): boolean {
    if (this.#pendingFailures === 0) return false;
    this.#pendingFailures--;
    return true;
  }

  #release(): void {
    this.#active = Math.max(0, this.#active - 1);
    this.lastUsed = Date.now();
    if (this.#active === 0 && this.#live && !this.#live.ended) this.#armIdle();
  }

  #armIdle(): void {
    this.#cancelIdle?.();
    const idle = this.#clock.after(this.#options.idleMs, () => {
      if (this.#active > 0) return;
      this.#options.logger.debug(`socks: session to ${this.label} idle, terminating it`);
      void this.close();
    });
    this.#cancelIdle = () => idle.cancel();
  }
}
