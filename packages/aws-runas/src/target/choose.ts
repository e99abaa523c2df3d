/**
 * The deterministic choice between several running matches (pure): instances whose SSM agent
 * is Online first, then the newest launch, then the lowest instance id.
 */
import type { InstanceSummary } from "./types.js";

/** Agent ping status by instance id (from DescribeInstanceInformation); missing = unknown. */
export type AgentStatuses = ReadonlyMap<string, string>;

/** `matches` best first. Does not modify its input. */
export function rankMatches(matches: readonly InstanceSummary[], statuses: AgentStatuses): InstanceSummary[] {
  const online = (instance: InstanceSummary) => (statuses.get(instance.instanceId) === "Online" ? 1 : 0);
  const launched = (instance: InstanceSummary) => instance.launchTime?.getTime() ?? Number.NEGATIVE_INFINITY;
  return [...matches].sort(
    (a, b) =>
      online(b) - online(a) ||
      compareNumbers(launched(b), launched(a)) ||
      (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0),
  );
}

/** The one warning line printed when a target matches several instances. */
export function describeChoice(
  target: string,
  ranked: readonly InstanceSummary[],
  statuses: AgentStatuses,
): string {
  const [chosen, ...others] = ranked;
  if (!chosen) return `${JSON.stringify(target)} matches no instance`;
  const facts = [
    `SSM agent ${statuses.get(chosen.instanceId) ?? "status unknown"}`,
    chosen.launchTime ? `launched ${chosen.launchTime.toISOString()}` : undefined,
  ].filter((fact) => fact !== undefined);
  return (
    `${JSON.stringify(target)} matches ${ranked.length} running instances; using ${chosen.instanceId} ` +
    `(${facts.join(", ")}); others: ${others.map((other) => other.instanceId).join(", ")}`
  );
}

function compareNumbers(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1;
}
