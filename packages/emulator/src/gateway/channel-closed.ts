/**
 * The `channel_closed` message the gateway sends when a session ends (ssm-protocol.md §4.7, §6.3):
 * header seq 0, Flags 3, PayloadType 0, and a JSON payload whose `Output` the client prints.
 */
import {
  encodeChannelClosed,
  encodeMessage,
  HeaderFlags,
  MessageType,
  PayloadType,
} from "@aws-runas/wire/protocol/index.js";

export interface ChannelClosedInput {
  sessionId: string;
  /** The target instance id. */
  destinationId: string;
  /** Text for the user; empty for a normal end. */
  output: string;
  messageId: string;
  /** Milliseconds since the epoch; the JSON carries it as an ISO string. */
  createdDate: number;
}

/** Encodes one channel_closed frame. Pure. */
export function encodeChannelClosedFrame(input: ChannelClosedInput): Buffer {
  return encodeMessage({
    messageType: MessageType.channelClosed,
    schemaVersion: 1,
    createdDate: input.createdDate,
    sequenceNumber: 0,
    flags: HeaderFlags.ack,
    messageId: input.messageId,
    payloadType: PayloadType.unset,
    payload: encodeChannelClosed({
      MessageId: input.messageId,
      CreatedDate: new Date(input.createdDate).toISOString(),
      DestinationId: input.destinationId,
      SessionId: input.sessionId,
      MessageType: MessageType.channelClosed,
      SchemaVersion: 1,
      Output: input.output,
    }),
  });
}
