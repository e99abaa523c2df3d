/** An IPv4 or IPv6 literal names the running instance holding that address. */
import { ipFamily, looksLikeIpv4 } from "../address.js";
import type { TargetResolver } from "../types.js";
import { findByAddresses } from "./running.js";

export const ipResolver: TargetResolver = {
  name: "ip",
  resolve: async (target, ctx) => {
    if (ipFamily(target) === 0) {
      return { kind: "none", note: looksLikeIpv4(target) ? "not a valid IP address" : "not an IP address" };
    }
    const { matches, searched } = await findByAddresses(ctx, [target]);
    return matches.length > 0
      ? { kind: "found", matches, via: searched }
      : { kind: "none", note: `${searched}: 0 running` };
  },
};
