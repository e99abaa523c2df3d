/**
 * The emulator's DNS server: UDP and TCP on the same port of 127.0.0.1, authoritative for the
 * fixture's zone and answering A, AAAA, TXT and SOA questions from its records, so
 * `RUNAS_DNS_SERVERS=127.0.0.1:<port>` lets target resolution run offline. Like a real
 * authoritative server it sets TC on a UDP answer that does not fit (the client retries over
 * TCP), puts the zone's SOA in negative answers, and refuses names outside its zone.
 */

import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { once } from "node:events";
import { createServer, type Server, type Socket as TcpSocket } from "node:net";
import type { Logger } from "@aws-runas/wire/log.js";
import type { Answer, DecodedPacket, Packet } from "dns-packet";
import dnsPacket from "dns-packet";
import { answersFor, buildDnsZone, type DnsRecord, type DnsZone } from "./records.js";

export interface DnsServerOptions {
  records: readonly DnsRecord[];
  /** The zones to be authoritative for; derived from the records when absent. */
  zones?: readonly string[];
  /** UDP and TCP port; 0 or absent picks one free for both (read it back from {@link DnsServer.port}). */
  port?: number;
  /** For `-v` traces of each question; silent when absent. */
  logger?: Logger;
}

export interface DnsServer {
  readonly port: number;
  /** The zone apexes it answers for. */
  readonly zones: readonly string[];
  /** Stops answering and releases the port; safe to call more than once. */
  close(): Promise<void>;
}

const HOST = "127.0.0.1";
/** Largest UDP answer without EDNS (RFC 1035 §4.2.1). */
const CLASSIC_UDP_LIMIT = 512;
/** A DNS message over TCP carries a 16-bit length (RFC 1035 §4.2.2). */
const TCP_LIMIT = 65535;
/** How often a random port is tried before giving up when UDP's port is taken on TCP. */
const PORT_ATTEMPTS = 10;

/** dns-packet decodes the opcode too; its type definitions just leave it out. */
type DecodedQuery = DecodedPacket & { opcode?: string };

const Rcode = { noError: 0, formErr: 1, nxDomain: 3, notImp: 4, refused: 5 } as const;
type Rcode = (typeof Rcode)[keyof typeof Rcode];

type Transport = "udp" | "tcp";

/** Starts the server; rejects if the records are invalid or the port cannot be bound. */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const zone = buildDnsZone(options.records, options.zones);
  const { udp, tcp } = await bindBoth(options.port ?? 0);
  const connections = new Set<TcpSocket>();
  udp.on("message", (message, remote) => {
    const reply = replyTo(zone, message, "udp", options.logger);
    if (reply)
      udp.send(reply, remote.port, remote.address, (error) => logSendError(error, remote, options.logger));
  });
  udp.on("error", (error) => options.logger?.warn(`dns: ${error.message}`));
  tcp.on("connection", (socket) => {
    connections.add(socket);
    socket.on("close", () => connections.delete(socket));
    serveTcp(socket, zone, options.logger);
  });
  tcp.on("error", (error) => options.logger?.warn(`dns: ${error.message}`));

  let closing: Promise<void> | undefined;
  return {
    port: (udp.address() as { port: number }).port,
    zones: zone.apexes,
    close: () => {
      closing ??= (async () => {
        for (const socket of connections) socket.destroy();
        await Promise.all([closeSocket(udp), new Promise<void>((resolve) => tcp.close(() => resolve()))]);
      })();
      return closing;
    },
  };
}

/** A UDP socket and a TCP listener on the same port (a fixed one, or one free for both). */
async function bindBoth(port: number): Promise<{ udp: Socket; tcp: Server }> {
  for (let attempt = 1; ; attempt++) {
    const udp = createSocket("udp4");
    await listenOn(udp, port);
    const bound = udp.address().port;
    const tcp = createServer({ allowHalfOpen: false });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen(bound, HOST, () => {
          tcp.off("error", reject);
          resolve();
        });
      });
      return { udp, tcp };
    } catch (error) {
      await closeSocket(udp);
      // The free UDP port may be taken on TCP: pick another, unless the user chose this one.
      if (port !== 0 || attempt >= PORT_ATTEMPTS || (error as NodeJS.ErrnoException).code !== "EADDRINUSE")
        throw error;
    }
  }
}

async function listenOn(socket: Socket, port: number): Promise<void> {
  const failed = once(socket, "error").then(([error]) => Promise.reject(error));
  socket.bind(port, HOST);
  await Promise.race([once(socket, "listening"), failed]);
  failed.catch(() => {});
}

/** DNS over TCP: length-prefixed messages, answered in order, on one connection. */
function serveTcp(socket: TcpSocket, zone: DnsZone, logger: Logger | undefined): void {
  let pending = Buffer.alloc(0);
  socket.on("error", () => {});
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      if (pending.length < 2 + length) break;
      const message = pending.subarray(2, 2 + length);
      pending = pending.subarray(2 + length);
      const reply = replyTo(zone, message, "tcp", logger);
      if (!reply) continue;
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(reply.length);
      socket.write(Buffer.concat([prefix, reply]));
    }
  });
}

/** The encoded answer to one message, or `undefined` when it is not worth answering. */
function replyTo(
  zone: DnsZone,
  message: Buffer,
  transport: Transport,
  logger: Logger | undefined,
): Buffer | undefined {
  let query: DecodedQuery;
  try {
    query = dnsPacket.decode(message);
  } catch {
    // Unparsable: answer FORMERR when the header (and so the id) is there, otherwise drop it.
    return message.length >= 12 ? header(message.readUInt16BE(0), Rcode.formErr) : undefined;
  }
  if (query.type !== "query") return undefined;
  const questions = query.questions ?? [];
  if (query.opcode !== "QUERY") return encode(query, { rcode: Rcode.notImp, authoritative: false });
  if (questions.length === 0) return encode(query, { rcode: Rcode.formErr, authoritative: false });
  const answers: Answer[] = [];
  const authority: Answer[] = [];
  let rcode: Rcode = Rcode.noError;
  for (const question of questions) {
    const outcome = answersFor(zone, question);
    logger?.debug(
      `dns/${transport}: ${question.type} ${question.name} -> ${
        outcome.kind === "answer" ? `${outcome.answers.length} answer(s)` : outcome.kind.toUpperCase()
      }`,
    );
    if (outcome.kind === "refused") {
      // One foreign name makes the whole message refused; nothing of ours goes with it.
      return encode(query, { rcode: Rcode.refused, authoritative: false });
    }
    if (outcome.kind === "nxdomain") rcode = Rcode.nxDomain;
    else answers.push(...outcome.answers);
    authority.push(...outcome.authority);
  }
  const reply = encode(query, { rcode, authoritative: true, answers, authority });
  const limit = transport === "tcp" ? TCP_LIMIT : udpLimit(query);
  if (reply.length <= limit) return reply;
  // Too big for one datagram: say so (TC) instead of sending a cut answer; TCP gets it whole.
  return encode(query, { rcode, authoritative: true, truncated: true });
}

interface ReplyParts {
  rcode: Rcode;
  authoritative: boolean;
  answers?: Answer[];
  authority?: Answer[];
  truncated?: boolean;
}

function encode(query: DecodedPacket, parts: ReplyParts): Buffer {
  const recursionDesired = query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0;
  const reply: Packet = {
    type: "response",
    id: query.id ?? 0,
    flags:
      (parts.authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) |
      recursionDesired |
      (parts.truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) |
      parts.rcode,
    questions: query.questions ?? [],
    answers: parts.answers ?? [],
    authorities: parts.authority ?? [],
  };
  return dnsPacket.encode(reply);
}

/** A bare response header (no sections) for datagrams we could not decode. */
function header(id: number, rcode: Rcode): Buffer {
  return dnsPacket.encode({ type: "response", id, flags: rcode, questions: [], answers: [] });
}

/** The client's EDNS buffer size when it sent one, else the classic 512 bytes. */
function udpLimit(query: DecodedPacket): number {
  const opt = query.additionals?.find((record) => record.type === "OPT");
  return opt && "udpPayloadSize" in opt ? Math.max(opt.udpPayloadSize, CLASSIC_UDP_LIMIT) : CLASSIC_UDP_LIMIT;
}

function logSendError(error: Error | null, remote: RemoteInfo, logger: Logger | undefined): void {
  if (error) logger?.debug(`dns: reply to ${remote.address}:${remote.port} failed: ${error.message}`);
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}
