/**
 * The emulator's DNS zone: the record type the fixture provides, its validation, and the pure
 * question → answer logic the UDP server wraps. No I/O.
 */
import { isIPv4, isIPv6 } from "node:net";
import type { Answer, Question } from "dns-packet";
import { RunasError } from "../../errors.js";

/** Record types the emulator serves. */
export const DnsRecordType = { A: "A", AAAA: "AAAA", TXT: "TXT" } as const;
export type DnsRecordType = (typeof DnsRecordType)[keyof typeof DnsRecordType];

/** One fixture record: `web.emu.internal A 203.0.113.10`, `id.emu.internal TXT i-0123...`. */
export interface DnsRecord {
  /** Fully qualified name; matched case-insensitively, a trailing dot is optional. */
  name: string;
  type: DnsRecordType;
  /** IPv4 address (A), IPv6 address (AAAA) or the text of a TXT record (any length). */
  value: string;
  /** Seconds resolvers may cache the answer (default {@link DNS_TTL}). */
  ttl?: number;
}

/** Default TTL in seconds (the fixture's documented default). */
export const DNS_TTL = 60;

/** Longest character-string inside a TXT record (RFC 1035 §3.3). */
const TXT_CHUNK = 255;

/** Records indexed by normalised name, ready to answer questions. */
export interface DnsZone {
  readonly byName: ReadonlyMap<string, readonly DnsRecord[]>;
}

/** Lower-case without the trailing dot, the form names are compared in. */
export function normaliseDnsName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/** Checks every record and indexes them; throws a RunasError naming the first bad record. */
export function buildDnsZone(records: readonly DnsRecord[]): DnsZone {
  const byName = new Map<string, DnsRecord[]>();
  records.forEach((record, index) => {
    checkRecord(record, index);
    const key = normaliseDnsName(record.name);
    const list = byName.get(key) ?? [];
    list.push(record);
    byName.set(key, list);
  });
  return { byName };
}

/**
 * Answers for one question: `undefined` when the name is unknown (NXDOMAIN), otherwise the
 * matching records — possibly none, for a name that only has other types (NOERROR, no data).
 */
export function answersFor(zone: DnsZone, question: Question): Answer[] | undefined {
  const records = zone.byName.get(normaliseDnsName(question.name));
  if (!records) return undefined;
  const wanted = question.type as string;
  return records
    .filter((record) => wanted === "ANY" || record.type === wanted)
    .map((record) => toAnswer(question.name, record));
}

function toAnswer(name: string, record: DnsRecord): Answer {
  switch (record.type) {
    case "A":
    case "AAAA":
      return { name, type: record.type, class: "IN", ttl: record.ttl ?? DNS_TTL, data: record.value };
    case "TXT":
      return { name, type: "TXT", class: "IN", ttl: record.ttl ?? DNS_TTL, data: splitTxt(record.value) };
  }
}

/** TXT text longer than 255 bytes goes out as several character-strings, as DNS requires. */
function splitTxt(value: string): Buffer[] {
  const bytes = Buffer.from(value, "utf8");
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += TXT_CHUNK) {
    chunks.push(bytes.subarray(offset, offset + TXT_CHUNK));
  }
  return chunks.length > 0 ? chunks : [Buffer.alloc(0)];
}

function checkRecord(record: DnsRecord, index: number): void {
  const where = `DNS record ${index} (${JSON.stringify(record.name)} ${record.type})`;
  const bad = (why: string) =>
    new RunasError("EMULATOR_BAD_DNS_RECORD", `${where}: ${why}`, {
      hint: 'records look like { "name": "web.emu.internal", "type": "A", "value": "203.0.113.10" }',
    });
  if (typeof record.name !== "string" || normaliseDnsName(record.name) === "") throw bad("empty name");
  if (typeof record.value !== "string") throw bad("value must be a string");
  if (
    record.ttl !== undefined &&
    !(Number.isInteger(record.ttl) && record.ttl >= 0 && record.ttl <= 2 ** 31 - 1)
  ) {
    throw bad("ttl must be a whole number of seconds");
  }
  switch (record.type) {
    case "A":
      if (!isIPv4(record.value)) throw bad(`${JSON.stringify(record.value)} is not an IPv4 address`);
      return;
    case "AAAA":
      if (!isIPv6(record.value)) throw bad(`${JSON.stringify(record.value)} is not an IPv6 address`);
      return;
    case "TXT":
      return;
    default:
      throw bad("type must be A, AAAA or TXT");
  }
}
