/** A DNS name resolved to A/AAAA records names the running instance holding those addresses. */
import { ipFamily, isHostName } from "../address.js";
import type { TargetResolver } from "../types.js";
import { queryDns } from "./dns-lookup.js";
import { findByAddresses } from "./running.js";

export const dnsAddressResolver: TargetResolver = {
  name: "dns",
  resolve: async (target, ctx) => {
    if (ipFamily(target) !== 0) return { kind: "none" };
    if (!isHostName(target)) return { kind: "none", note: "DNS: not a host name" };
    const [v4, v6] = await Promise.all([
      queryDns(() => ctx.dns.resolve4(target)),
      queryDns(() => ctx.dns.resolve6(target)),
    ]);
    const addresses = [...(v4.ok ? v4.records : []), ...(v6.ok ? v6.records : [])];
    ctx.logger.debug(`target: DNS ${target} -> ${addresses.join(", ") || "no address"}`);
    if (addresses.length === 0) {
      const failure = !v4.ok ? v4.code : !v6.ok ? v6.code : undefined;
      return { kind: "none", note: failure ? `DNS: lookup failed (${failure})` : "DNS: no A/AAAA record" };
    }
    const { matches, searched } = await findByAddresses(ctx, addresses);
    const via = `DNS ${target} -> ${searched}`;
    return matches.length > 0 ? { kind: "found", matches, via } : { kind: "none", note: `${via}: 0 running` };
  },
};
