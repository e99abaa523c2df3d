/**
 * Every managed instance of the account and region: all pages of DescribeInstanceInformation
 * (the SSM side: agent version, ping status, platform), joined with all pages of
 * DescribeInstances (the EC2 side: tags, private address, state). AWS errors reach the caller.
 */

import type { DescribeInstancesCommand, DescribeInstancesCommandOutput } from "@aws-sdk/client-ec2";
import { readPages } from "../aws/pages.js";
import type {
  DescribeInstanceInformationInput,
  DescribeInstanceInformationOutput,
  InstanceInformation,
} from "../aws/ssm-client.js";
import type { ManagedInstance } from "./types.js";

export interface InstanceClients {
  ec2: { send(command: DescribeInstancesCommand): Promise<DescribeInstancesCommandOutput> };
  ssm: {
    describeInstanceInformation(
      input: DescribeInstanceInformationInput,
    ): Promise<DescribeInstanceInformationOutput>;
  };
}

export interface ListOptions {
  /** DescribeInstanceInformation MaxResults, 5..50 (default 50: fewest calls). */
  ssmPageSize?: number;
  /** DescribeInstances MaxResults, 5..1000 (default 1000). */
  ec2PageSize?: number;
}

interface Ec2Side {
  name: string | undefined;
  privateIp: string;
  state: string;
  tags: Record<string, string>;
}

/** Lists the managed instances (unsorted). */
export async function listManagedInstances(
  clients: InstanceClients,
  options: ListOptions = {},
): Promise<ManagedInstance[]> {
  const [infos, ec2] = await Promise.all([
    readSsm(clients.ssm, options.ssmPageSize ?? 50),
    readEc2(clients.ec2, options.ec2PageSize ?? 1000),
  ]);
  return infos.map((info) => {
    const id = info.InstanceId ?? "";
    const side = ec2.get(id);
    return {
      instanceId: id,
      name: side?.name ?? info.Name ?? info.ComputerName ?? "",
      privateIp: side?.privateIp || info.IPAddress || "",
      platform: info.PlatformType ?? "",
      agentVersion: info.AgentVersion ?? "",
      pingStatus: info.PingStatus ?? "",
      state: side?.state ?? "",
      tags: side?.tags ?? {},
    };
  });
}

async function readSsm(ssm: InstanceClients["ssm"], pageSize: number): Promise<InstanceInformation[]> {
  const out: InstanceInformation[] = [];
  await readPages("DescribeInstanceInformation", async (NextToken) => {
    const page = await ssm.describeInstanceInformation({
      MaxResults: pageSize,
      ...(NextToken ? { NextToken } : {}),
    });
    for (const info of page.InstanceInformationList ?? []) if (info.InstanceId) out.push(info);
    return page.NextToken;
  });
  return out;
}

async function readEc2(ec2: InstanceClients["ec2"], pageSize: number): Promise<Map<string, Ec2Side>> {
  const { DescribeInstancesCommand } = await import("@aws-sdk/client-ec2");
  const out = new Map<string, Ec2Side>();
  await readPages("DescribeInstances", async (NextToken) => {
    const page = await ec2.send(
      new DescribeInstancesCommand({ MaxResults: pageSize, ...(NextToken ? { NextToken } : {}) }),
    );
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) {
        if (!instance.InstanceId) continue;
        const tags: Record<string, string> = {};
        for (const tag of instance.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? "";
        out.set(instance.InstanceId, {
          name: tags.Name,
          privateIp: instance.PrivateIpAddress ?? "",
          state: instance.State?.Name ?? "",
          tags,
        });
      }
    }
    return page.NextToken;
  });
  return out;
}
