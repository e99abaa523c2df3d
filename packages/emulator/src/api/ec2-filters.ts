/**
 * EC2 DescribeInstances filters over fixture instances. Pure.
 *
 * Values may use EC2's wildcards: `*` (any run of characters) and `?` (one character), with `\`
 * escaping them. Values of one filter are OR-ed; filters are AND-ed.
 */
import type { FixtureInstance } from "../fixture/types.js";
import { ApiError } from "./errors.js";
import type { QueryFilter } from "./input.js";

/** EC2 instance-state codes. */
export const STATE_CODE = { running: 16, stopped: 80 } as const;

/** Matches `value` against an EC2 filter value with `*`/`?` wildcards. */
export function wildcardMatch(pattern: string, value: string): boolean {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "\\" && i + 1 < pattern.length) {
      re += (pattern[++i] ?? "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    } else if (c === "*") re += "[\\s\\S]*";
    else if (c === "?") re += "[\\s\\S]";
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`).test(value);
}

/** The addresses EC2 reports for an instance (public IPv4 only while running, as on AWS). */
export function effectiveAddresses(instance: FixtureInstance): {
  privateIp?: string;
  publicIp?: string;
  ipv6?: string;
} {
  return {
    privateIp: instance.privateIp,
    publicIp: instance.state === "running" ? instance.publicIp : undefined,
    ipv6: instance.ipv6,
  };
}

function values(instance: FixtureInstance, name: string, region: string): string[] | undefined {
  const addr = effectiveAddresses(instance);
  const list = (...xs: (string | undefined)[]) => xs.filter((x): x is string => x !== undefined);
  if (name.startsWith("tag:")) {
    const key = name.slice(4);
    return Object.hasOwn(instance.tags, key) ? list(instance.tags[key]) : [];
  }
  switch (name) {
    case "instance-id":
      return [instance.instanceId];
    case "tag-key":
      return Object.keys(instance.tags);
    case "tag-value":
      return Object.values(instance.tags);
    case "ip-address":
    case "network-interface.addresses.association.public-ip":
      return list(addr.publicIp);
    case "private-ip-address":
    case "network-interface.addresses.private-ip-address":
      return list(addr.privateIp);
    case "network-interface.ipv6-addresses.ipv6-address":
    case "network-interface.ipv6-address":
      return list(addr.ipv6);
    case "instance-state-name":
      return [instance.state];
    case "instance-state-code":
      return [String(STATE_CODE[instance.state])];
    case "instance-type":
      return [instance.instanceType ?? "t3.micro"];
    case "availability-zone":
      return [instance.availabilityZone ?? `${region}a`];
    case "platform":
      return instance.platform === "Windows" ? ["windows"] : [];
    default:
      return undefined;
  }
}

/** Whether `instance` passes every filter; unknown filter names raise `InvalidParameterValue`. */
export function instanceMatches(
  instance: FixtureInstance,
  filters: readonly QueryFilter[],
  region: string,
): boolean {
  return filters.every((filter) => {
    const actual = values(instance, filter.name, region);
    if (actual === undefined)
      throw new ApiError("InvalidParameterValue", `The filter '${filter.name}' is invalid`);
    return filter.values.some((pattern) => actual.some((value) => wildcardMatch(pattern, value)));
  });
}
