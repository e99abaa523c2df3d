/**
 * Type-level checks of the typed events of DataChannel and ReliableEndpoint, run by `tsc
 * --noEmit` (part of `npm test`), not by the test runner: every `@ts-expect-error` below fails
 * the type check once the line it marks compiles, i.e. once an event loses its type.
 */
import type { DataChannel, ReliableEndpoint } from "../../packages/aws-runas/src/datachannel/index.js";

export function dataChannelEvents(channel: DataChannel): void {
  channel.on("ready", (info) => info.customerMessage.length + Number(info.encrypted));
  channel.on("connectionLost", ({ error, windowMs }) => `${error.message} ${windowMs.toFixed()}`);
  channel.once("channelClosed", ({ output }) => output.trim());
  channel.on("sideband", (type, data) => type + data.length);
  channel.on("data", (chunk) => chunk.byteLength);
  channel.on("error", (error) => error.message);
  // @ts-expect-error "ready" carries a ReadyInfo, not a number
  channel.on("ready", (n: number) => n);
  // @ts-expect-error an unknown event name
  channel.on("reconected", () => {});
  // @ts-expect-error "reconnected" needs { afterMs: number }
  channel.emit("reconnected", { afterMs: "soon" });
  // @ts-expect-error "flag" carries a number
  channel.once("flag", (flag: string) => flag);
}

export function endpointEvents(endpoint: ReliableEndpoint): void {
  endpoint.on("acknowledged", (seq) => seq.toFixed());
  endpoint.on("error", (error) => error.code);
  // @ts-expect-error "acknowledged" carries a sequence number
  endpoint.on("acknowledged", (seq: string) => seq);
  // @ts-expect-error "drain" has no arguments
  endpoint.emit("drain", 1);
}
