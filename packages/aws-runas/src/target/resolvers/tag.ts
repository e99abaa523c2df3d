/**
 * `key:value` names instances by tag: split at the first `:`, EC2 wildcards `*` and `?` work in
 * the value (the filter does the matching).
 */
import { ipFamily } from "../address.js";
import type { TargetResolver } from "../types.js";
import { findRunning } from "./running.js";

export const tagResolver: TargetResolver = {
  name: "tag",
  resolve: async (target, ctx) => {
    // "2001:db8::1" has colons but is an address, not tag "2001".
    if (ipFamily(target) !== 0) return { kind: "none" };
    const colon = target.indexOf(":");
    if (colon <= 0) return { kind: "none", note: "not a tag key:value" };
    const key = target.slice(0, colon);
    const value = target.slice(colon + 1);
    const tag = `tag ${key}=${value}`;
    const matches = await findRunning(ctx, [{ name: `tag:${key}`, values: [value] }]);
    return matches.length > 0
      ? { kind: "found", matches, via: tag }
      : { kind: "none", note: `${tag}: 0 running` };
  },
};
