/**
 * SOCKS version 5 (RFC 1928) as a pure codec: the client's method greeting and CONNECT request
 * are parsed from whatever bytes have arrived so far, replies are encoded. No I/O, no timers.
 *
 * ```
 *  client → VER=5 NMETHODS METHODS...            parseGreeting
 *  server → VER=5 METHOD (0x00 no-auth | 0xFF)    encodeMethodSelection
 *  client → VER=5 CMD RSV ATYP DST.ADDR DST.PORT  parseRequest
 *  server → VER=5 REP RSV ATYP BND.ADDR BND.PORT  encodeReply
 * ```
 */

export const SOCKS_VERSION = 5;

/** Authentication methods (RFC 1928 §3). Only "no authentication" is offered. */
export const AuthMethod = { none: 0x00, noAcceptable: 0xff } as const;

/** CMD values (§4); only CONNECT is served. */
export const Command = { connect: 0x01, bind: 0x02, udpAssociate: 0x03 } as const;

/** ATYP values (§4, §5). */
export const AddressType = { ipv4: 0x01, domain: 0x03, ipv6: 0x04 } as const;

/** REP values (§6). */
export const Reply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;
export type ReplyCode = (typeof Reply)[keyof typeof Reply];

/** Short names for logs. */
export function replyName(code: number): string {
  const names: Record<number, string> = {
    0: "succeeded",
    1: "general failure",
    2: "not allowed",
    3: "network unreachable",
    4: "host unreachable",
    5: "connection refused",
    6: "TTL expired",
    7: "command not supported",
    8: "address type not supported",
  };
  return names[code] ?? `reply ${code}`;
}

/** Result of parsing a prefix of the input. */
export type Parsed<T> =
  | { readonly kind: "incomplete" }
  | { readonly kind: "ok"; readonly value: T; readonly consumed: number }
  /** `reply`: the REP to answer with before closing, when the request got that far. */
  | { readonly kind: "error"; readonly message: string; readonly reply?: ReplyCode };

export interface Greeting {
  readonly methods: readonly number[];
}

export type DestinationType = "ipv4" | "ipv6" | "domain";

export interface ConnectRequest {
  readonly command: number;
  readonly type: DestinationType;
  /** Dotted IPv4, RFC 5952 IPv6 (no brackets) or the domain name as sent. */
  readonly host: string;
  readonly port: number;
}

const INCOMPLETE = { kind: "incomplete" } as const;

/** `VER NMETHODS METHODS...`. */
export function parseGreeting(buf: Uint8Array): Parsed<Greeting> {
  if (buf.length < 1) return INCOMPLETE;
  if (buf[0] !== SOCKS_VERSION) return notSocks5(buf[0]!);
  if (buf.length < 2) return INCOMPLETE;
  const count = buf[1]!;
  if (count === 0) return { kind: "error", message: "the client offered no authentication method" };
  if (buf.length < 2 + count) return INCOMPLETE;
  return { kind: "ok", value: { methods: [...buf.subarray(2, 2 + count)] }, consumed: 2 + count };
}

export function encodeMethodSelection(method: number): Buffer {
  return Buffer.from([SOCKS_VERSION, method]);
}

/** `VER CMD RSV ATYP DST.ADDR DST.PORT`; commands other than CONNECT parse, then get reply 7. */
export function parseRequest(buf: Uint8Array): Parsed<ConnectRequest> {
  if (buf.length < 1) return INCOMPLETE;
  if (buf[0] !== SOCKS_VERSION) return notSocks5(buf[0]!);
  if (buf.length < 5) return INCOMPLETE;
  const command = buf[1]!;
  const atyp = buf[3]!;
  let offset = 4;
  let type: DestinationType;
  let host: string;
  switch (atyp) {
    case AddressType.ipv4:
      if (buf.length < offset + 4 + 2) return INCOMPLETE;
      type = "ipv4";
      host = [...buf.subarray(offset, offset + 4)].join(".");
      offset += 4;
      break;
    case AddressType.ipv6:
      if (buf.length < offset + 16 + 2) return INCOMPLETE;
      type = "ipv6";
      host = formatIpv6(buf.subarray(offset, offset + 16));
      offset += 16;
      break;
    case AddressType.domain: {
      const length = buf[offset]!;
      if (buf.length < offset + 1 + length + 2) return INCOMPLETE;
      type = "domain";
      const raw = buf.subarray(offset + 1, offset + 1 + length);
      offset += 1 + length;
      // Names go to the instance as a session parameter: only plain host-name characters.
      if (length === 0 || !raw.every((b) => b > 0x20 && b < 0x7f && b !== 0x2f && b !== 0x5c)) {
        return {
          kind: "error",
          message: "the destination name is empty or has characters a host name cannot have",
          reply: Reply.hostUnreachable,
        };
      }
      host = Buffer.from(raw).toString("latin1");
      break;
    }
    default:
      return {
        kind: "error",
        message: `unsupported address type ${atyp}`,
        reply: Reply.addressTypeNotSupported,
      };
  }
  const port = (buf[offset]! << 8) | buf[offset + 1]!;
  offset += 2;
  if (command !== Command.connect) {
    return {
      kind: "error",
      message: `unsupported command ${command} (only CONNECT)`,
      reply: Reply.commandNotSupported,
    };
  }
  if (port === 0) {
    return { kind: "error", message: "destination port 0", reply: Reply.hostUnreachable };
  }
  return { kind: "ok", value: { command, type, host, port }, consumed: offset };
}

/**
 * `VER REP RSV ATYP BND.ADDR BND.PORT`. The bound address is what the proxy connected from;
 * through Session Manager there is no such address on this side, so it is 0.0.0.0:0 unless given.
 */
export function encodeReply(code: ReplyCode, bound?: { host: string; port: number }): Buffer {
  const host = bound?.host ?? "0.0.0.0";
  const port = bound?.port ?? 0;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  const address = v4 ? Buffer.from(v4.slice(1).map(Number)) : parseIpv6(host);
  if (!address) throw new Error(`not an IP address: ${host}`);
  const out = Buffer.alloc(4 + address.length + 2);
  out[0] = SOCKS_VERSION;
  out[1] = code;
  out[2] = 0;
  out[3] = address.length === 4 ? AddressType.ipv4 : AddressType.ipv6;
  out.set(address, 4);
  out.writeUInt16BE(port, 4 + address.length);
  return out;
}

/** Encodes a CONNECT request (the client side: tests and the bench use it). */
export function encodeConnectRequest(
  request: Omit<ConnectRequest, "command"> & { command?: number },
): Buffer {
  let address: Buffer;
  if (request.type === "domain") {
    const name = Buffer.from(request.host, "latin1");
    address = Buffer.concat([Buffer.from([AddressType.domain, name.length]), name]);
  } else if (request.type === "ipv4") {
    address = Buffer.from([AddressType.ipv4, ...request.host.split(".").map(Number)]);
  } else {
    const bytes = parseIpv6(request.host);
    if (!bytes) throw new Error(`not an IPv6 address: ${request.host}`);
    address = Buffer.concat([Buffer.from([AddressType.ipv6]), bytes]);
  }
  const port = Buffer.alloc(2);
  port.writeUInt16BE(request.port);
  return Buffer.concat([Buffer.from([SOCKS_VERSION, request.command ?? Command.connect, 0]), address, port]);
}

/** RFC 5952 text for 16 address bytes: lower-case hex, longest run of ≥2 zero groups as `::`. */
export function formatIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** IPv6 text (no brackets, no zone) → 16 bytes, or `undefined`. Accepts an embedded IPv4 tail. */
export function parseIpv6(text: string): Buffer | undefined {
  let head = text;
  let tail: number[] = [];
  const v4 = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const parts = v4.slice(2).map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    head = v4[1]!.endsWith("::") ? v4[1]! : v4[1]!.slice(0, -1);
    tail = [(parts[0]! << 8) | parts[1]!, (parts[2]! << 8) | parts[3]!];
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (s: string) => (s === "" ? [] : s.split(":"));
  const left = groupsOf(halves[0]!);
  const right = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (![...left, ...right].every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const fill = 8 - tail.length - left.length - right.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const groups = [
    ...left.map((g) => Number.parseInt(g, 16)),
    ...Array<number>(halves.length === 2 ? fill : 0).fill(0),
    ...right.map((g) => Number.parseInt(g, 16)),
    ...tail,
  ];
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(g, i * 2);
  return out;
}

function notSocks5(version: number): Parsed<never> {
  const what = version === 4 ? "a SOCKS4 client" : `not a SOCKS client (first byte ${version})`;
  return { kind: "error", message: `${what}: only SOCKS5 is served` };
}
