/**
 * A DNS TXT record whose text is an instance id. `mi-` ids (managed instances) are used as
 * they are; `i-` ids are checked to be running, like every other EC2 match.
 */
import { ipFamily, isHostName } from "../address.js";
import { isInstanceId } from "../spec.js";
import type { InstanceSummary, ResolveContext, TargetResolver } from "../types.js";
import { queryDns } from "./dns-lookup.js";
import { findRunning } from "./running.js";

export const dnsTxtResolver: TargetResolver = {
  name: "dns-txt",
  resolve: async (target, ctx) => {
    if (ipFamily(target) !== 0) return { kind: "none" };
    if (!isHostName(target)) return { kind: "none", note: "DNS TXT: not a host name" };
    const answer = await queryDns(() => ctx.dns.resolveTxt(target));
    if (!answer.ok) return { kind: "none", note: `DNS TXT: lookup failed (${answer.code})` };
    if (answer.records.length === 0) return { kind: "none", note: "DNS TXT: no record" };
    // A TXT record may arrive in several character-strings; its text is their concatenation.
    const texts = answer.records.map((chunks) => chunks.join("").trim());
    const ids = [...new Set(texts.filter(isInstanceId))];
    if (ids.length === 0) {
      const count = texts.length;
      return { kind: "none", note: `DNS TXT: no instance id in ${count} record${count > 1 ? "s" : ""}` };
    }
    const managed: InstanceSummary[] = ids
      .filter((id) => id.startsWith("mi-"))
      .map((instanceId) => ({ instanceId }));
    const ec2Ids = ids.filter((id) => id.startsWith("i-"));
    const running =
      ec2Ids.length > 0 ? await findRunning(ctx, [{ name: "instance-id", values: ec2Ids }]) : [];
    const matches = [...managed, ...running];
    const via = `DNS TXT ${target} -> ${ids.join(", ")}`;
    if (matches.length > 0) return { kind: "found", matches, via };
    return { kind: "none", note: `${via}: ${await whyNotRunning(ctx, ec2Ids)}` };
  },
};

/**
 * Why none of `ids` is running: an id the account does not have is a different mistake (a stale
 * or mistyped TXT record) from an instance that is stopped, so the note says which.
 */
async function whyNotRunning(ctx: ResolveContext, ids: readonly string[]): Promise<string> {
  const existing = await ctx.describeInstances([{ name: "instance-id", values: [...ids] }]);
  const states = new Map(existing.map((instance) => [instance.instanceId, instance.state ?? "not running"]));
  const parts = ids.map((id) => {
    const state = states.get(id);
    return ids.length === 1 ? (state ?? "no such instance") : `${id} ${state ?? "no such instance"}`;
  });
  return parts.join(", ");
}
