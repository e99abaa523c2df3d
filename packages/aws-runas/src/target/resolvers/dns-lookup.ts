/** DNS answers as values: "no such record" is an empty list, other failures keep their code. */
export type DnsAnswer<T> = { ok: true; records: T[] } | { ok: false; code: string };

/** Codes meaning the name or the record type does not exist (not a resolver failure). */
const NO_RECORD = new Set(["ENOTFOUND", "ENODATA", "NXDOMAIN", "NODATA"]);

export async function queryDns<T>(query: () => Promise<T[]>): Promise<DnsAnswer<T>> {
  try {
    return { ok: true, records: await query() };
  } catch (error) {
    const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
    if (NO_RECORD.has(code)) return { ok: true, records: [] };
    return { ok: false, code: code || (error instanceof Error ? error.message : String(error)) };
  }
}
