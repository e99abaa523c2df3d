/**
 * What a DataChannel emits, typed (client.ts narrows its Duplex event methods to these): its own
 * session events and those every Duplex has.
 */
import type { Readable } from "node:stream";
import type { SessionTypeInfo } from "./handshake.js";

export interface ReadyInfo {
  customerMessage: string;
  encrypted: boolean;
}

/** Events of a DataChannel, besides those of every Duplex (data, end, error, close...). */
export interface DataChannelEvents {
  /** The session type, from the handshake or (no handshake) the first output: Standard_Stream. */
  sessionType: [info: SessionTypeInfo];
  /** Session data may flow (see DataChannel.whenReady). */
  ready: [info: ReadyInfo];
  /** A Flag message from the agent (e.g. ConnectToPortError), or -1 for one that did not decode. */
  flag: [flag: number];
  /** The service closed the channel (channel_closed), with its Output; "close" follows. */
  channelClosed: [info: { output: string }];
  /** StdErr / ExitCode payloads, emitted only while someone listens (remote commands). */
  sideband: [payloadType: number, data: Buffer];
  /** Back on a new websocket after a drop, unacknowledged data resent. */
  resumed: [];
  /** A resume attempt failed and another follows. */
  reconnecting: [error: Error];
  /** The first resume attempt after a drop failed; retrying for up to `windowMs`. */
  connectionLost: [info: { error: Error; windowMs: number }];
  /** Back after a connectionLost, `afterMs` after the drop. */
  reconnected: [info: { afterMs: number }];
}

/** The events every Duplex has, as Node emits them. */
export interface DuplexEvents {
  data: [chunk: Buffer];
  end: [];
  finish: [];
  close: [];
  error: [error: Error];
  drain: [];
  pause: [];
  resume: [];
  readable: [];
  pipe: [source: Readable];
  unpipe: [source: Readable];
}

/** Every event of a DataChannel, by name. */
export type Events = DataChannelEvents & DuplexEvents;
