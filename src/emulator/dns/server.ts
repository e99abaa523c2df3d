/**
 * The emulator's DNS server: UDP on 127.0.0.1, answering A, AAAA and TXT questions from the
 * fixture's records, so `RUNAS_DNS_SERVERS=127.0.0.1:<port>` lets target resolution run offline.
 */

import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { once } from "node:events";
import type { Answer, DecodedPacket, Packet } from "dns-packet";
import dnsPacket from "dns-packet";
import type { Logger } from "../../log.js";
import { answersFor, buildDnsZone, type DnsRecord, type DnsZone } from "./records.js";

export interface DnsServerOptions {
  records: readonly DnsRecord[];
  /** UDP port; 0 or absent picks a free one (read it back from {@link DnsServer.port}). */
  port?: number;
  /** For `-v` traces of each question; silent when absent. */
  logger?: Logger;
}

export interface DnsServer {
  readonly port: number;
  /** Stops answering and releases the port; safe to call more than once. */
  close(): Promise<void>;
}

const HOST = "127.0.0.1";
/** Largest UDP answer without EDNS (RFC 1035 §4.2.1). */
const CLASSIC_UDP_LIMIT = 512;

/** dns-packet decodes the opcode too; its type definitions just leave it out. */
type DecodedQuery = DecodedPacket & { opcode?: string };

const Rcode = { noError: 0, formErr: 1, nxDomain: 3, notImp: 4 } as const;
type Rcode = (typeof Rcode)[keyof typeof Rcode];

/** Starts the server; rejects if the records are invalid or the port cannot be bound. */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const zone = buildDnsZone(options.records);
  const socket = createSocket("udp4");
  socket.on("message", (message, remote) => {
    const reply = replyTo(zone, message, options.logger);
    if (reply)
      socket.send(reply, remote.port, remote.address, (error) => logSendError(error, remote, options.logger));
  });
  const failed = once(socket, "error").then(([error]) => Promise.reject(error));
  socket.bind(options.port ?? 0, HOST);
  await Promise.race([once(socket, "listening"), failed]);
  // Later socket errors (rare for UDP) must not crash the emulator.
  failed.catch(() => {});
  socket.on("error", (error) => options.logger?.warn(`dns: ${error.message}`));

  let closing: Promise<void> | undefined;
  return {
    port: socket.address().port,
    close: () => {
      closing ??= closeSocket(socket);
      return closing;
    },
  };
}

/** The encoded answer to one datagram, or `undefined` when it is not worth answering. */
function replyTo(zone: DnsZone, message: Buffer, logger: Logger | undefined): Buffer | undefined {
  let query: DecodedQuery;
  try {
    query = dnsPacket.decode(message);
  } catch {
    // Unparsable: answer FORMERR when the header (and so the id) is there, otherwise drop it.
    return message.length >= 12 ? header(message.readUInt16BE(0), Rcode.formErr) : undefined;
  }
  if (query.type !== "query") return undefined;
  const questions = query.questions ?? [];
  if (query.opcode !== "QUERY") return encode(query, [], Rcode.notImp, questions);
  const answers: Answer[] = [];
  let rcode: Rcode = questions.length === 0 ? Rcode.formErr : Rcode.noError;
  for (const question of questions) {
    const found = answersFor(zone, question);
    logger?.debug(
      `dns: ${question.type} ${question.name} -> ${found ? `${found.length} answer(s)` : "NXDOMAIN"}`,
    );
    if (found) answers.push(...found);
    else rcode = Rcode.nxDomain;
  }
  const reply = encode(query, answers, rcode, questions);
  if (reply.length <= udpLimit(query)) return reply;
  // Too big for one datagram: say so (TC) instead of sending a cut answer.
  return encode(query, [], rcode, questions, dnsPacket.TRUNCATED_RESPONSE);
}

function encode(
  query: DecodedPacket,
  answers: Answer[],
  rcode: Rcode,
  questions: DecodedPacket["questions"],
  extraFlags = 0,
): Buffer {
  const recursionDesired = query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0;
  const reply: Packet = {
    type: "response",
    id: query.id ?? 0,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | recursionDesired | extraFlags | rcode,
    questions: questions ?? [],
    answers,
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
  return new Promise((resolve) => socket.close(() => resolve()));
}
