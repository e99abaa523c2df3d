/**
 * The emulator's DNS server as an emulator extension: serves the fixture's records on
 * `--dns-port` and exports `RUNAS_DNS_SERVERS` so the CLI's target resolution uses it.
 */
import { RunasError } from "@aws-runas/wire/errors.js";
import { EmulatorStartError } from "../errors.js";
import type { EmulatorExtension } from "../extensions.js";
import { startDnsServer } from "./server.js";

export { type DnsRecord, DnsRecordType } from "./records.js";
export { type DnsServer, type DnsServerOptions, startDnsServer } from "./server.js";

export const dnsExtension: EmulatorExtension = {
  name: "dns",
  async start(ctx) {
    try {
      const server = await startDnsServer({
        records: ctx.fixture.dnsRecords,
        port: ctx.dnsPort,
        logger: ctx.logger,
      });
      ctx.logger.debug(
        `emulator: DNS on 127.0.0.1:${server.port} (${ctx.fixture.dnsRecords.length} records)`,
      );
      return { env: { RUNAS_DNS_SERVERS: `127.0.0.1:${server.port}` }, close: () => server.close() };
    } catch (error) {
      if (error instanceof RunasError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new EmulatorStartError(`cannot start the DNS server on 127.0.0.1:${ctx.dnsPort}: ${reason}`, {
        cause: error,
        hint: "choose another --dns-port, or 0 for any free port",
      });
    }
  },
};
