/**
 * The emulator's DNS server: serves the fixture's records on `--dns-port` and exports
 * `RUNAS_DNS_SERVERS` so the CLI's target resolution uses it.
 */
import { RunasError } from "@aws-runas/wire/errors.js";
import type { Logger } from "@aws-runas/wire/log.js";
import { EmulatorStartError } from "../errors.js";
import type { DnsRecord } from "./records.js";
import { startDnsServer } from "./server.js";

export { type DnsRecord, DnsRecordType } from "./records.js";
export { type DnsServer, type DnsServerOptions, startDnsServer } from "./server.js";

/** The emulator's DNS server, and the `export` line that points the CLI at it. */
export interface EmulatorDns {
  env: { RUNAS_DNS_SERVERS: string };
  close(): Promise<void>;
}

/** Starts the DNS server for the emulator; a failure is an {@link EmulatorStartError} with a hint. */
export async function startEmulatorDns(
  records: readonly DnsRecord[],
  port: number,
  logger: Logger,
): Promise<EmulatorDns> {
  try {
    const server = await startDnsServer({ records, port, logger });
    logger.debug(`emulator: DNS on 127.0.0.1:${server.port} (${records.length} records)`);
    return { env: { RUNAS_DNS_SERVERS: `127.0.0.1:${server.port}` }, close: () => server.close() };
  } catch (error) {
    if (error instanceof RunasError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new EmulatorStartError(`cannot start the DNS server on 127.0.0.1:${port}: ${reason}`, {
      cause: error,
      hint: "choose another --dns-port, or 0 for any free port",
    });
  }
}
