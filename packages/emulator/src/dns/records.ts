/**
 * The emulator's DNS zone: the record type the fixture provides, its validation, and the pure
 * question → answer logic the UDP server wraps. No I/O.
 */
import { isIPv4, isIPv6 } from "node:net";
import { RunasError } from "@aws-runas/wire/errors.js";
import type { Answer, Question } from "dns-packet";

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
  /** The zone apexes the server is authoritative for (normalised); other names are refused. */
  readonly apexes: readonly string[];
}

/** Lower-case without the trailing dot, the form names are compared in. */
export function normaliseDnsName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/**
 * Checks every record and indexes them; throws a RunasError naming the first bad record.
 * `apexes` defaults to {@link zoneApexes} of the records.
 */
export function buildDnsZone(records: readonly DnsRecord[], apexes?: readonly string[]): DnsZone {
  const byName = new Map<string, DnsRecord[]>();
  records.forEach((record, index) => {
    checkRecord(record, index);
    const key = normaliseDnsName(record.name);
    const list = byName.get(key) ?? [];
    list.push(record);
    byName.set(key, list);
  });
  return { byName, apexes: (apexes ?? zoneApexes([...byName.keys()])).map(normaliseDnsName) };
}

/**
 * The zone the records belong to: their longest common suffix of labels (`emu.internal` for
 * `web.emu.internal` and `db.emu.internal`), but never a record's own name alone — one name
 * lives in its parent's zone. Names without a common suffix each get their parent's zone.
 */
export function zoneApexes(names: readonly string[]): string[] {
  if (names.length === 0) return [];
  const labels = names.map((name) => name.split(".").reverse());
  const first = labels[0]!;
  let common = 0;
  while (common < first.length && labels.every((l) => l[common] === first[common])) common++;
  if (common > 0 && !labels.some((l) => l.length > common) && common > 1) common--;
  if (common > 0) return [first.slice(0, common).reverse().join(".")];
  const parents = labels.map((l) => (l.length > 1 ? l.slice(0, -1) : l).reverse().join("."));
  return [...new Set(parents)];
}

/** The apex of the zone `name` is in, or undefined when the server is not authoritative for it. */
export function apexOf(zone: DnsZone, name: string): string | undefined {
  const wanted = normaliseDnsName(name);
  return zone.apexes.find((apex) => wanted === apex || wanted.endsWith(`.${apex}`));
}

/** What the server says to one question, as an authoritative server would. */
export type DnsOutcome =
  /** Outside every zone: REFUSED, not authoritative (a real authoritative-only server's answer). */
  | { kind: "refused" }
  /** The name does not exist in the zone: NXDOMAIN with the zone's SOA in the authority section. */
  | { kind: "nxdomain"; authority: Answer[] }
  /** Records of the asked type, or none (NODATA: NOERROR with the SOA as authority). */
  | { kind: "answer"; answers: Answer[]; authority: Answer[] };

/** The answer to one question (RFC 1034 §4.3.2 for an authoritative server, RFC 2308 negatives). */
export function answersFor(zone: DnsZone, question: Question): DnsOutcome {
  const apex = apexOf(zone, question.name);
  if (apex === undefined) return { kind: "refused" };
  const name = normaliseDnsName(question.name);
  const wanted = question.type as string;
  const soa = soaRecord(apex);
  const records = zone.byName.get(name);
  if (name === apex && (wanted === "SOA" || wanted === "ANY")) {
    const rest = wanted === "ANY" ? (records ?? []).map((r) => toAnswer(question.name, r)) : [];
    return { kind: "answer", answers: [{ ...soa, name: question.name }, ...rest], authority: [] };
  }
  // The apex exists even without records of its own; so does every name above a record.
  const exists =
    records !== undefined || name === apex || [...zone.byName.keys()].some((k) => k.endsWith(`.${name}`));
  if (!exists) return { kind: "nxdomain", authority: [soa] };
  const answers = (records ?? [])
    .filter((record) => wanted === "ANY" || record.type === wanted)
    .map((record) => toAnswer(question.name, record));
  return { kind: "answer", answers, authority: answers.length > 0 ? [] : [soa] };
}

/** The zone's SOA; its minimum (the negative-caching TTL, RFC 2308) is the default record TTL. */
function soaRecord(apex: string): Answer {
  return {
    name: apex,
    type: "SOA",
    class: "IN",
    ttl: DNS_TTL,
    data: {
      mname: `ns.${apex}`,
      rname: `hostmaster.${apex}`,
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: DNS_TTL,
    },
  };
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
