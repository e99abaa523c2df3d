/**
 * One simulated amazon-ssm-agent session (ssm-protocol.md §5, §6, §7, §11): the agent's own reliable
 * channel (./channel), the handshake when the session needs one, the KMS envelope, and the session
 * plugin chosen by the document's session type.
 *
 * ```
 *  created ──start()──┬─ handshake needed ─► handshake ──HandshakeComplete sent──► running
 *                     └─ plain shell ─────────────────────────────────────────► running
 *  running ──plugin done (shell exit, SSH target EOF)──► finishing (≤2 s for acks) ──► ended
 *  any ──failure (handshake timeout, KMS, dial)──► finishing ──► ended ("end" carries the message)
 *  any ──terminate() (TerminateSession API or flag)──────────────────────────► ended
 * ```
 * The owner (the gateway) feeds client frames to {@link receive}, connects the client's websocket
 * with {@link attach}, and turns the "end" event into `channel_closed`.
 */
import { EventEmitter } from "node:events";
import { type Logger, silentLogger } from "@aws-runas/wire/log.js";
import {
  type DecodedMessage,
  decodeEncryptionChallenge,
  decodeFlag,
  decodeHandshakeResponse,
  decodeTerminalSize,
  encodeEncryptionChallenge,
  encodeFlag,
  encodeHandshakeComplete,
  encodeHandshakeRequest,
  FlagValue,
  type HandshakeRequestPayload,
  NONCE_LENGTH,
  PayloadType,
  splitDataKey,
} from "@aws-runas/wire/protocol/index.js";
import type { Pacing } from "../program/options.js";
import {
  type AgentEntropy,
  systemAgentEntropy,
  systemTimerClock,
  type TimerClock,
  type TimerHandle,
} from "../world/clock.js";
import type { CommandProperties, PortProperties } from "../world/documents.js";
import { AgentChannel, type AgentChannelStats, type Delivery, type FrameSink } from "./channel/channel.js";
import { AgentCipher } from "./cipher.js";
import {
  CommandPlugin,
  NON_INTERACTIVE_MIN_AGENT_VERSION,
  SEPARATE_OUTPUT_MIN_AGENT_VERSION,
} from "./command.js";
import { AgentError } from "./errors.js";
import { OutputGate } from "./flow.js";
import {
  acceptHandshakeResponse,
  buildHandshakeRequest,
  HANDSHAKE_TIMEOUT_MESSAGE,
  KMS_CUSTOMER_MESSAGE,
  needsHandshake,
  usesKms,
} from "./handshake.js";
import type { PluginHost, SessionPlugin } from "./plugin.js";
import { BasicPortPlugin } from "./port-basic.js";
import { MuxPortPlugin } from "./port-mux.js";
import { resolvePortTarget } from "./port-target.js";
import { ShellPlugin } from "./shell.js";
import { commandLaunch, pickShell, shellLaunch } from "./shell-command.js";
import type { AgentEnvironment, AgentSessionSpec } from "./types.js";
import { choosePortMode, compareVersions, type PortModeDecision } from "./version.js";

export type AgentSessionState = "created" | "handshake" | "running" | "finishing" | "ended";

/** Why a session ended; `output` goes into channel_closed (empty on a normal end). */
export interface AgentSessionEnd {
  output: string;
  error?: Error;
}

export interface AgentSessionEvents {
  /** Once: the session is over; the owner sends channel_closed. */
  end: [AgentSessionEnd];
  /** After the handshake (or at once for plain shells): the plugin runs. */
  running: [];
  /** Every Flag message the client sent (whether or not this session type acts on it). */
  flag: [number];
}

/** Bytes of the KMS challenge (AGT `handshake`: 64 random bytes). */
const CHALLENGE_LENGTH = 64;

export class AgentSession extends EventEmitter<AgentSessionEvents> {
  readonly spec: AgentSessionSpec;
  /** The agent's own reliable channel (./channel), not the client's. */
  readonly endpoint: AgentChannel;
  /** ClientVersion from the HandshakeResponse (undefined without a handshake). */
  clientVersion: string | undefined;
  /** The port mode chosen for Port sessions. */
  portMode: PortModeDecision | undefined;

  readonly #env: AgentEnvironment;
  readonly #clock: TimerClock;
  readonly #entropy: AgentEntropy;
  readonly #logger: Logger;
  readonly #gate: OutputGate;
  #state: AgentSessionState = "created";
  #attached = false;
  #plugin: SessionPlugin | null = null;
  #cipher: AgentCipher | null = null;
  #request: HandshakeRequestPayload | null = null;
  #responded = false;
  #challenge: Buffer | null = null;
  #handshakeStarted = 0;
  #timer: TimerHandle | null = null;

  constructor(spec: AgentSessionSpec, env: AgentEnvironment) {
    super();
    this.spec = spec;
    this.#env = env;
    this.#clock = env.clock ?? systemTimerClock;
    this.#entropy = env.entropy ?? systemAgentEntropy;
    this.#logger = env.logger ?? silentLogger;
    this.endpoint = new AgentChannel({
      limits: env.limits,
      clock: this.#clock,
      entropy: this.#entropy,
      logger: this.#logger,
      onStreamMessage: (m) => this.#onStreamMessage(m),
    });
    this.#gate = new OutputGate(
      () => this.#attached && !this.endpoint.congested && this.#state === "running",
    );
    this.endpoint.on("drain", () => this.#gate.recheck());
  }

  get state(): AgentSessionState {
    return this.#state;
  }

  get ended(): boolean {
    return this.#state === "ended";
  }

  /** Whether outgoing payloads are KMS-encrypted (after a KMS handshake). */
  get encrypted(): boolean {
    return this.#cipher !== null;
  }

  /** Begins the session: the HandshakeRequest, or the shell right away (§6.5). */
  start(): void {
    if (this.#state !== "created") return;
    if (!needsHandshake(this.spec)) {
      this.#run();
      return;
    }
    this.#state = "handshake";
    this.#handshakeStarted = this.#clock.now();
    this.#request = buildHandshakeRequest(this.spec);
    this.endpoint.send(PayloadType.handshakeRequest, encodeHandshakeRequest(this.#request));
    this.#armTimeout();
  }

  /** Connects (sink) or disconnects (null) the client's websocket; unacked messages go out again. */
  attach(sink: FrameSink | null): void {
    if (this.#state === "ended") return;
    this.#attached = sink !== null;
    this.endpoint.attach(sink);
    this.#gate.recheck();
  }

  /** One binary frame from the client. */
  receive(frame: Buffer): void {
    if (this.#state !== "ended") this.endpoint.receive(frame);
  }

  /** Ends at once (TerminateSession, or the gateway shutting down). Idempotent. */
  terminate(output = ""): void {
    this.#end({ output });
  }

  stats(): AgentChannelStats {
    return this.endpoint.stats();
  }

  #armTimeout(): void {
    this.#timer?.cancel();
    this.#timer = this.#clock.after(this.#env.handshakeTimeoutMs ?? 15_000, () =>
      this.#fail(new AgentError("AGENT_HANDSHAKE_TIMEOUT", HANDSHAKE_TIMEOUT_MESSAGE)),
    );
  }

  #onStreamMessage(m: DecodedMessage): Delivery {
    if (m.payloadType === PayloadType.flag) {
      try {
        this.emit("flag", decodeFlag(m.payload));
      } catch {
        // A malformed flag is ignored below as well.
      }
    }
    if (this.#state === "handshake") return this.#onHandshakeMessage(m);
    if (this.#state !== "running" || !this.#plugin) return "ok";
    switch (m.payloadType) {
      case PayloadType.output:
        return this.#onOutput(m.payload);
      case PayloadType.size:
        try {
          const size = decodeTerminalSize(m.payload);
          this.#plugin.resize(size.cols, size.rows);
        } catch (error) {
          this.#logger.debug(`ignored a bad Size message: ${(error as Error).message}`);
        }
        return "ok";
      case PayloadType.flag:
        this.#onFlag(m.payload);
        return "ok";
      default:
        return "ok"; // late handshake duplicates and unused types: ack and ignore
    }
  }

  #onOutput(payload: Buffer): Delivery {
    let data = payload;
    if (this.#cipher) {
      try {
        data = this.#cipher.open(payload);
      } catch (error) {
        this.#logger.warn(`dropped client data that failed decryption: ${(error as Error).message}`);
        return "ok";
      }
    }
    return this.#plugin?.input(data) ?? "ok";
  }

  #onFlag(payload: Buffer): void {
    let flag: number;
    try {
      flag = decodeFlag(payload);
    } catch {
      return;
    }
    // Only the port plugin honours TerminateSession; the shell plugins ignore every flag (§4.6).
    if (flag === FlagValue.terminateSession && this.spec.sessionType === "Port") {
      this.terminate();
      return;
    }
    this.#plugin?.flag(flag);
  }

  /** Before HandshakeComplete only handshake answers count; anything else is acked and dropped (§5.1 d). */
  #onHandshakeMessage(m: DecodedMessage): Delivery {
    if (m.payloadType === PayloadType.handshakeResponse && !this.#responded) {
      this.#responded = true;
      this.#onHandshakeResponse(m.payload);
    } else if (m.payloadType === PayloadType.encChallengeResponse && this.#challenge) {
      this.#onChallengeResponse(m.payload);
    }
    return "ok";
  }

  #onHandshakeResponse(payload: Buffer): void {
    let kmsKey: Buffer | undefined;
    try {
      const accepted = acceptHandshakeResponse(this.#request!, decodeHandshakeResponse(payload));
      this.clientVersion = accepted.clientVersion;
      kmsKey = accepted.kmsCipherTextKey;
    } catch (error) {
      this.#fail(
        error instanceof AgentError
          ? error
          : new AgentError("AGENT_HANDSHAKE_FAILED", "the client sent a malformed HandshakeResponse", error),
      );
      return;
    }
    if (!usesKms(this.spec)) {
      // After the ack of the response has gone out, as observed from the real agent (§5.3).
      queueMicrotask(() => {
        if (this.#state === "handshake") this.#completeHandshake();
      });
      return;
    }
    this.#timer?.cancel();
    void this.#startEncryption(kmsKey!);
  }

  async #startEncryption(cipherTextKey: Buffer): Promise<void> {
    const decrypt = this.#env.kmsDecrypt;
    let dataKey: Uint8Array;
    try {
      if (!decrypt) throw new Error("this emulator has no KMS");
      dataKey = await decrypt({
        ciphertextBlob: cipherTextKey,
        keyId: this.spec.kmsKeyId!,
        encryptionContext: {
          "aws:ssm:SessionId": this.spec.sessionId,
          "aws:ssm:TargetId": this.spec.instanceId,
        },
      });
      this.#cipher = new AgentCipher(splitDataKey(dataKey), this.#entropy.bytes(NONCE_LENGTH));
    } catch (error) {
      this.#fail(
        new AgentError("AGENT_KMS", `Failed to decrypt the KMS data key: ${describeKmsError(error)}`, error),
      );
      return;
    }
    if (this.#state !== "handshake") return;
    this.#challenge = this.#entropy.bytes(CHALLENGE_LENGTH);
    const sealed = this.#cipher.seal(this.#challenge);
    this.endpoint.send(
      PayloadType.encChallengeRequest,
      encodeEncryptionChallenge({ Challenge: sealed.toString("base64") }),
    );
    this.#armTimeout();
  }

  #onChallengeResponse(payload: Buffer): void {
    const expected = this.#challenge!;
    this.#challenge = null;
    try {
      const answer = Buffer.from(decodeEncryptionChallenge(payload).Challenge, "base64");
      if (!this.#cipher!.open(answer).equals(expected)) throw new Error("the answer differs");
    } catch (error) {
      this.#fail(
        new AgentError(
          "AGENT_HANDSHAKE_FAILED",
          "Encryption challenge does not match. Session is terminated.",
          error,
        ),
      );
      return;
    }
    queueMicrotask(() => {
      if (this.#state === "handshake") this.#completeHandshake();
    });
  }

  #completeHandshake(): void {
    this.#timer?.cancel();
    this.#timer = null;
    const elapsedNs = Math.round((this.#clock.now() - this.#handshakeStarted) * 1e6);
    this.endpoint.send(
      PayloadType.handshakeComplete,
      encodeHandshakeComplete({
        HandshakeTimeToComplete: elapsedNs,
        CustomerMessage: this.#cipher ? KMS_CUSTOMER_MESSAGE : "",
      }),
    );
    this.#run();
  }

  #run(): void {
    this.#state = "running";
    try {
      this.#plugin = this.#createPlugin();
    } catch (error) {
      this.#fail(error as Error);
      return;
    }
    this.emit("running");
    this.#gate.recheck();
  }

  #createPlugin(): SessionPlugin {
    const host = this.#pluginHost();
    const shell = pickShell(this.#env.shell);
    switch (this.spec.sessionType) {
      case "Standard_Stream":
        return ShellPlugin.start(host, shellLaunch(shell, undefined, this.#processEnv()));
      case "InteractiveCommands": {
        const props = this.spec.properties as CommandProperties | null;
        const command = (process.platform === "darwin" ? props?.macos : props?.linux)?.commands ?? "";
        if (command === "") throw new AgentError("AGENT_SHELL", "InteractiveCommands needs a command.");
        return ShellPlugin.start(host, shellLaunch(shell, command, this.#processEnv()));
      }
      case "NonInteractiveCommands":
        return this.#startCommand(host, shell);
      case "Port": {
        const props = this.spec.properties as PortProperties;
        const target = resolvePortTarget(props, this.#env.remoteHosts);
        this.portMode = choosePortMode({
          type: props.type,
          clientVersion: this.clientVersion ?? "",
          agentVersion: this.spec.agentVersion,
        });
        this.#logger.debug(
          `session ${this.spec.sessionId}: port ${this.portMode.mode} mode to ${target.requested}` +
            (this.portMode.mode === "mux"
              ? `, smux keepalive ${this.portMode.keepAlive ? "on" : "off"}`
              : ""),
        );
        return this.portMode.mode === "mux"
          ? MuxPortPlugin.start(host, target, this.portMode.keepAlive)
          : BasicPortPlugin.start(host, target, props.type === "LocalPortForwarding");
      }
    }
  }

  /**
   * The environment of the session's processes: the emulator's own, plus the session id, so a
   * test can find every process a session left behind (children inherit it; see the README).
   */
  #processEnv(): NodeJS.ProcessEnv {
    return { ...process.env, RUNAS_EMULATOR_SESSION_ID: this.spec.sessionId };
  }

  /**
   * Agents before 3.0.1124.0 have no NonInteractiveCommands plugin; separated streams need
   * 3.1.1511.0 and the document's `separateOutputStream` (older agents ignore the property).
   */
  #startCommand(host: PluginHost, shell: string): SessionPlugin {
    const agentVersion = this.spec.agentVersion;
    if ((compareVersions(agentVersion, NON_INTERACTIVE_MIN_AGENT_VERSION) ?? -1) < 0) {
      throw new AgentError(
        "AGENT_SHELL",
        `NonInteractiveCommands is not supported by SSM Agent ${agentVersion}; it needs ${NON_INTERACTIVE_MIN_AGENT_VERSION} or later.`,
      );
    }
    const props = this.spec.properties as CommandProperties | null;
    const config = process.platform === "darwin" ? props?.macos : props?.linux;
    const command = config?.commands ?? "";
    if (command.trim() === "") throw new AgentError("AGENT_SHELL", "NonInteractiveCommands needs a command.");
    const separate =
      config?.separateOutputStream === "true" &&
      (compareVersions(agentVersion, SEPARATE_OUTPUT_MIN_AGENT_VERSION) ?? -1) >= 0;
    this.#logger.debug(
      `session ${this.spec.sessionId}: command, streams ${separate ? "separated" : "merged"}`,
    );
    return CommandPlugin.start(host, commandLaunch(shell, command, !separate), separate);
  }

  #pluginHost(): PluginHost {
    const pacing: Pacing = this.#env.pacing;
    // Output, StdErr and ExitCode are the agent's encrypted payload types (§5.4 step 7).
    const send = (payloadType: number, data: Buffer) => {
      if (this.#state === "ended") return;
      this.endpoint.send(payloadType, this.#cipher ? this.#cipher.seal(data) : Buffer.from(data));
    };
    return {
      gate: this.#gate,
      pacing,
      logger: this.#logger,
      clock: this.#clock,
      retryInput: () => this.endpoint.flushPending(),
      sendOutput: (data) => send(PayloadType.output, data),
      sendStream: (payloadType, data) => send(payloadType, data),
      sendFlag: (flag) => {
        if (this.#state !== "ended") this.endpoint.send(PayloadType.flag, encodeFlag(flag));
      },
      finish: (output = "") => this.#finish({ output }),
      fail: (error) => this.#fail(error),
    };
  }

  #fail(error: Error): void {
    this.#logger.debug(`session ${this.spec.sessionId} failed: ${error.message}`);
    this.#finish({ output: error.message, error });
  }

  /**
   * Waits for the client to ack what was sent, then ends (AGT `PrepareToCloseChannel` waits up to
   * 2 s). Emulator difference: the 2 s count from the last progress, not from the start, so a
   * client busy resuming through injected faults still gets every byte before channel_closed.
   */
  #finish(end: AgentSessionEnd): void {
    if (this.#state === "finishing" || this.#state === "ended") return;
    this.#state = "finishing";
    this.#timer?.cancel();
    this.#plugin?.stop();
    const idleLimit = this.#env.closeFlushMs ?? 2000;
    let unacked = this.endpoint.stats().unacked;
    let lastProgress = this.#clock.now();
    const check = () => {
      if (this.#state !== "finishing") return;
      const now = this.endpoint.stats().unacked;
      if (now < unacked) lastProgress = this.#clock.now();
      unacked = now;
      if (unacked === 0 || this.#clock.now() - lastProgress >= idleLimit) this.#end(end);
      else this.#timer = this.#clock.after(10, check);
    };
    check();
  }

  #end(end: AgentSessionEnd): void {
    if (this.#state === "ended") return;
    this.#state = "ended";
    this.#timer?.cancel();
    this.#timer = null;
    this.#plugin?.stop();
    this.#plugin = null;
    this.endpoint.close();
    this.emit("end", end);
  }
}

/** KMS errors may carry only an AWS error name (InvalidCiphertextException has no message). */
function describeKmsError(error: unknown): string {
  const e = error as { message?: string; awsCode?: string; name?: string };
  return e.message || e.awsCode || e.name || String(error);
}
