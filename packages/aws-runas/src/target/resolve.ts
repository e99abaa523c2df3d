/**
 * The resolver chain (cli-reference.md §3): instance id → tag → IP literal → DNS A/AAAA → DNS
 * TXT. The first method with running matches wins; several matches are narrowed to one by
 * {@link rankMatches} with one warning. AWS errors propagate untouched — only "found nothing"
 * falls through to the next method.
 */
import { UsageError } from "@aws-runas/wire/errors.js";
import { type AgentStatuses, describeChoice, rankMatches } from "./choose.js";
import { TargetNotFoundError } from "./errors.js";
import { dnsAddressResolver } from "./resolvers/dns-address.js";
import { dnsTxtResolver } from "./resolvers/dns-txt.js";
import { instanceIdResolver } from "./resolvers/instance-id.js";
import { ipResolver } from "./resolvers/ip.js";
import { tagResolver } from "./resolvers/tag.js";
import type { InstanceSummary, ResolveContext, ResolvedTarget, TargetResolver } from "./types.js";

/** The methods in the order they are tried. */
export const DEFAULT_RESOLVERS: readonly TargetResolver[] = [
  instanceIdResolver,
  tagResolver,
  ipResolver,
  dnsAddressResolver,
  dnsTxtResolver,
];

/**
 * Turns a target (instance id, tag `key:value`, IP address or DNS name) into one instance id.
 * Throws {@link TargetNotFoundError} listing what each method tried when nothing matches.
 */
export async function resolveTarget(
  target: string,
  ctx: ResolveContext,
  resolvers: readonly TargetResolver[] = DEFAULT_RESOLVERS,
): Promise<ResolvedTarget> {
  if (target.trim() === "")
    throw new UsageError("empty target", "give an instance id, tag key:value, IP or DNS name");
  const notes: string[] = [];
  for (const resolver of resolvers) {
    const outcome = await resolver.resolve(target, ctx);
    if (outcome.kind === "found" && outcome.matches.length > 0) {
      ctx.logger.debug(`target: ${resolver.name} found ${outcome.matches.length} via ${outcome.via}`);
      return choose(target, outcome.matches, outcome.via, ctx);
    }
    if (outcome.kind === "none" && outcome.note) {
      ctx.logger.debug(`target: ${resolver.name}: ${outcome.note}`);
      notes.push(outcome.note);
    }
  }
  throw new TargetNotFoundError(target, notes);
}

async function choose(
  target: string,
  matches: readonly InstanceSummary[],
  via: string,
  ctx: ResolveContext,
): Promise<ResolvedTarget> {
  if (matches.length === 1) return { instanceId: matches[0]!.instanceId, via, others: [] };
  const statuses = await agentStatuses(matches, ctx);
  const [chosen, ...others] = rankMatches(matches, statuses);
  ctx.logger.warn(describeChoice(target, [chosen!, ...others], statuses));
  return { instanceId: chosen!.instanceId, via, others: others.map((other) => other.instanceId) };
}

/**
 * Agent status only breaks ties, so a failure here (e.g. no ssm:DescribeInstanceInformation
 * permission) must not stop the session: rank by launch time instead and say so under `-v`.
 */
async function agentStatuses(
  matches: readonly InstanceSummary[],
  ctx: ResolveContext,
): Promise<AgentStatuses> {
  try {
    const statuses = await ctx.describeInstanceInformation(matches.map((match) => match.instanceId));
    return new Map(statuses.map((status) => [status.instanceId, status.pingStatus]));
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    ctx.logger.debug(`target: SSM agent status unavailable (${reason}); choosing by launch time`);
    return new Map();
  }
}
