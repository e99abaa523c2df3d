/**
 * The Session Manager wire protocol as pure values-in, values-out code: the binary message codec,
 * the JSON payloads and the KMS envelope. No I/O, no clock, no randomness (see ssm-protocol.md).
 */
export * from "./constants.js";
export * from "./envelope.js";
export * from "./message.js";
export * from "./payloads.js";
