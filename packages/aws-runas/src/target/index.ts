/**
 * Target resolution: the target-spec parsers used by the CLI, and {@link resolveTarget}, which
 * turns an instance id, tag `key:value`, IP address or DNS name into one running instance.
 */
export {
  type AwsLookupOptions,
  type AwsLookups,
  createAwsLookups,
  type Ec2Client,
  type SsmLookupClient,
} from "./aws-lookups.js";
export { createDnsLookup, createDnsLookupFromEnv, DNS_SERVERS_ENV, parseDnsServers } from "./dns.js";
export { TargetNotFoundError } from "./errors.js";
export { DEFAULT_RESOLVERS, resolveTarget } from "./resolve.js";
export {
  type ForwardTarget,
  isInstanceId,
  isPrivateAddress,
  parseForwardTarget,
  parseShellTarget,
  parseSshTarget,
  type SshTarget,
} from "./spec.js";
export type {
  AgentStatus,
  DnsLookup,
  InstanceFilter,
  InstanceSummary,
  ResolveContext,
  ResolvedTarget,
  ResolverOutcome,
  TargetResolver,
} from "./types.js";
