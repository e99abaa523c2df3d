/**
 * The shapes target resolution works with: what the resolvers need from AWS and DNS (injected
 * through {@link ResolveContext}), and what each resolver and the whole chain return.
 */
import type { Logger } from "@aws-runas/wire/log.js";

/** One DescribeInstances filter: values are ORed, filters are ANDed (EC2 semantics). */
export interface InstanceFilter {
  name: string;
  values: string[];
}

/** The part of an EC2 instance the choice between several matches needs. */
export interface InstanceSummary {
  instanceId: string;
  launchTime?: Date;
  /** `running`, `stopped`... absent for managed (`mi-`) instances known only from DNS. */
  state?: string;
}

/** SSM agent status from DescribeInstanceInformation. */
export interface AgentStatus {
  instanceId: string;
  /** `Online`, `ConnectionLost` or `Inactive`. */
  pingStatus: string;
}

/** The DNS queries resolution makes; `dns.promises.Resolver` fits as is. */
export interface DnsLookup {
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  resolveTxt(name: string): Promise<string[][]>;
}

/** Everything resolution talks to, injected so tests can use fakes (see aws-lookups.ts for AWS). */
export interface ResolveContext {
  /** DescribeInstances with these filters, every page read. */
  describeInstances(filters: readonly InstanceFilter[]): Promise<InstanceSummary[]>;
  /** DescribeInstanceInformation for these ids, every page read; unknown ids are simply absent. */
  describeInstanceInformation(instanceIds: readonly string[]): Promise<AgentStatus[]>;
  dns: DnsLookup;
  logger: Logger;
}

/**
 * What one resolution method found: instances (with how they were found), or nothing and a
 * short note for the "no instance matches" line (no note when the method does not apply).
 */
export type ResolverOutcome =
  | { kind: "found"; matches: InstanceSummary[]; via: string }
  | { kind: "none"; note?: string };

/** One resolution method; adding a method means adding one module and listing it in resolve.ts. */
export interface TargetResolver {
  /** Short name for `-v` logs: `instance-id`, `tag`, `ip`, `dns`, `dns-txt`. */
  readonly name: string;
  resolve(target: string, ctx: ResolveContext): Promise<ResolverOutcome>;
}

/** The instance a target names. */
export interface ResolvedTarget {
  instanceId: string;
  /** How it was found, for logs: `instance id`, `tag Name=web`, `DNS web.example.com -> 203.0.113.10`. */
  via: string;
  /** Other running matches that were not chosen (already reported in one warning). */
  others: string[];
}
