/** Lookups shared by the resolvers: running instances only, and instances by IP address. */
import { ipFamily, isPrivateAddress } from "../address.js";
import type { InstanceFilter, InstanceSummary, ResolveContext } from "../types.js";

const RUNNING: InstanceFilter = { name: "instance-state-name", values: ["running"] };

/** DescribeInstances with `filters`, restricted to running instances. */
export function findRunning(
  ctx: ResolveContext,
  filters: readonly InstanceFilter[],
): Promise<InstanceSummary[]> {
  return ctx.describeInstances([...filters, RUNNING]);
}

/** EC2 filters for an address set: public v4, private v4, and v6 (which EC2 keeps in one list). */
const ADDRESS_FILTER = {
  publicV4: "ip-address",
  privateV4: "private-ip-address",
  v6: "network-interface.ipv6-addresses.ipv6-address",
} as const;

export interface AddressMatch {
  matches: InstanceSummary[];
  /** The addresses actually searched for, e.g. `public IP 203.0.113.10`. */
  searched: string;
}

/**
 * Running instances holding any of `addresses`. When any address is public only the public
 * ones are searched (a DNS name with both kinds names the instance by its public address, as in
 * aws-runas); otherwise the private ones. IPv4 and IPv6 need separate filters, hence two calls.
 */
export async function findByAddresses(
  ctx: ResolveContext,
  addresses: readonly string[],
): Promise<AddressMatch> {
  const publicOnes = addresses.filter((ip) => !isPrivateAddress(ip));
  const searchPublic = publicOnes.length > 0;
  const chosen = searchPublic ? publicOnes : [...addresses];
  const v4 = chosen.filter((ip) => ipFamily(ip) === 4);
  const v6 = chosen.filter((ip) => ipFamily(ip) === 6);
  const lookups: Promise<InstanceSummary[]>[] = [];
  if (v4.length > 0) {
    const name = searchPublic ? ADDRESS_FILTER.publicV4 : ADDRESS_FILTER.privateV4;
    lookups.push(findRunning(ctx, [{ name, values: v4 }]));
  }
  if (v6.length > 0) lookups.push(findRunning(ctx, [{ name: ADDRESS_FILTER.v6, values: v6 }]));
  const found = (await Promise.all(lookups)).flat();
  const unique = new Map(found.map((instance) => [instance.instanceId, instance]));
  const kind = searchPublic ? "public" : "private";
  const searched = `${kind} IP${chosen.length > 1 ? "s" : ""} ${chosen.join(", ")}`;
  return { matches: [...unique.values()], searched };
}
