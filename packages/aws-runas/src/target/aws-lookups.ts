/**
 * Production wiring of {@link ResolveContext}'s AWS lookups on the clients `src/aws` builds,
 * reading every page. AWS errors are not caught here: AccessDenied, ExpiredToken
 * and exhausted throttling retries reach the caller as themselves, never as "not found".
 */
// Types only: the EC2 client package (≈0.9 MB) is imported when a lookup first needs it, so an
// instance-id target — the common ssh ProxyCommand case — never loads it.

import type {
  DescribeInstancesCommand,
  DescribeInstancesCommandInput,
  DescribeInstancesCommandOutput,
} from "@aws-sdk/client-ec2";
import { readPages } from "../aws/pages.js";
import type {
  DescribeInstanceInformationInput,
  DescribeInstanceInformationOutput,
} from "../aws/ssm-client.js";
import type { AgentStatus, InstanceFilter, InstanceSummary, ResolveContext } from "./types.js";

/** What we need of an `EC2Client` (so tests can pass a fake). */
export interface Ec2Client {
  send(command: DescribeInstancesCommand): Promise<DescribeInstancesCommandOutput>;
}

/** What we need of the SSM client (so tests can pass a fake). */
export interface SsmLookupClient {
  describeInstanceInformation(
    input: DescribeInstanceInformationInput,
  ): Promise<DescribeInstanceInformationOutput>;
}

/** DescribeInstances allows 5..1000 per page. */
const EC2_PAGE_SIZE = { min: 5, max: 1000 } as const;
/** DescribeInstanceInformation allows 5..50 per page. */
const SSM_PAGE_SIZE = 50;
/** At most this many ids in one InstanceIds filter (the API takes up to 100 values). */
const SSM_IDS_PER_CALL = 50;

export type AwsLookups = Pick<ResolveContext, "describeInstances" | "describeInstanceInformation">;

export interface AwsLookupOptions {
  /** DescribeInstances MaxResults, 5..1000 (default 1000; smaller only to exercise paging). */
  ec2PageSize?: number;
}

/** The AWS half of a {@link ResolveContext}, on the given clients. */
export function createAwsLookups(
  clients: { ec2: Ec2Client; ssm: SsmLookupClient },
  options: AwsLookupOptions = {},
): AwsLookups {
  const pageSize = options.ec2PageSize ?? EC2_PAGE_SIZE.max;
  if (!Number.isInteger(pageSize) || pageSize < EC2_PAGE_SIZE.min || pageSize > EC2_PAGE_SIZE.max) {
    throw new RangeError(`ec2PageSize must be ${EC2_PAGE_SIZE.min}..${EC2_PAGE_SIZE.max}, got ${pageSize}`);
  }
  return {
    describeInstances: (filters) => describeInstances(clients.ec2, filters, pageSize),
    describeInstanceInformation: (ids) => describeInstanceInformation(clients.ssm, ids),
  };
}

async function describeInstances(
  ec2: Ec2Client,
  filters: readonly InstanceFilter[],
  pageSize: number,
): Promise<InstanceSummary[]> {
  const found: InstanceSummary[] = [];
  await readPages("DescribeInstances", async (NextToken) => {
    const input: DescribeInstancesCommandInput = {
      Filters: filters.map((filter) => ({ Name: filter.name, Values: [...filter.values] })),
      MaxResults: pageSize,
      ...(NextToken ? { NextToken } : {}),
    };
    const { DescribeInstancesCommand } = await import("@aws-sdk/client-ec2");
    const page = await ec2.send(new DescribeInstancesCommand(input));
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) {
        if (!instance.InstanceId) continue;
        found.push({
          instanceId: instance.InstanceId,
          ...(instance.LaunchTime ? { launchTime: instance.LaunchTime } : {}),
          ...(instance.State?.Name ? { state: instance.State.Name } : {}),
        });
      }
    }
    return page.NextToken;
  });
  return found;
}

async function describeInstanceInformation(
  ssm: SsmLookupClient,
  ids: readonly string[],
): Promise<AgentStatus[]> {
  const statuses: AgentStatus[] = [];
  for (let start = 0; start < ids.length; start += SSM_IDS_PER_CALL) {
    const chunk = ids.slice(start, start + SSM_IDS_PER_CALL);
    await readPages("DescribeInstanceInformation", async (NextToken) => {
      const input: DescribeInstanceInformationInput = {
        Filters: [{ Key: "InstanceIds", Values: chunk }],
        MaxResults: SSM_PAGE_SIZE,
        ...(NextToken ? { NextToken } : {}),
      };
      const page = await ssm.describeInstanceInformation(input);
      for (const info of page.InstanceInformationList ?? []) {
        if (info.InstanceId)
          statuses.push({ instanceId: info.InstanceId, pingStatus: info.PingStatus ?? "Unknown" });
      }
      return page.NextToken;
    });
  }
  return statuses;
}
