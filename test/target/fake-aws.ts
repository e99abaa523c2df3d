/**
 * In-memory EC2 and SSM that behave like the real APIs where resolution depends on it: filters
 * (ANDed names, ORed values, `*`/`?` wildcards), MaxResults bounds, NextToken paging with a
 * server-side page cap, and service errors thrown the way the SDK (EC2) and our JSON client (SSM)
 * make them.
 */
import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandOutput,
  EC2ServiceException,
} from "@aws-sdk/client-ec2";
import { AwsServiceError } from "../../packages/aws-runas/src/aws/json/protocol.js";
import type {
  DescribeInstanceInformationInput,
  DescribeInstanceInformationOutput,
} from "../../packages/aws-runas/src/aws/ssm-client.js";

export interface FakeInstance {
  id: string;
  state: "running" | "stopped" | "pending" | "terminated";
  launchTime: Date;
  tags?: Record<string, string>;
  privateIp?: string;
  publicIp?: string;
  ipv6?: string[];
  /** SSM agent ping status; absent = not registered with SSM. */
  ping?: "Online" | "ConnectionLost" | "Inactive";
}

/** EC2-style wildcard match: `*` any run, `?` one character, case-sensitive. */
function wildcard(pattern: string, value: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${regex}$`, "s").test(value);
}

function filterValues(instance: FakeInstance, name: string): string[] | undefined {
  if (name.startsWith("tag:")) {
    const value = instance.tags?.[name.slice(4)];
    return value === undefined ? [] : [value];
  }
  switch (name) {
    case "instance-id":
      return [instance.id];
    case "instance-state-name":
      return [instance.state];
    case "ip-address":
      return instance.publicIp ? [instance.publicIp] : [];
    case "private-ip-address":
      return instance.privateIp ? [instance.privateIp] : [];
    case "network-interface.ipv6-addresses.ipv6-address":
      return instance.ipv6 ?? [];
    default:
      return undefined;
  }
}

function clientError(Exception: typeof EC2ServiceException, name: string, message: string) {
  return new Exception({ name, $fault: "client", $metadata: { httpStatusCode: 400 }, message });
}

/** An SSM error answer as the JSON protocol decodes it. */
function ssmError(name: string, message: string): AwsServiceError {
  const body = JSON.stringify({ __type: name, message });
  return new AwsServiceError(name, message, { status: 400, headers: {}, body });
}

function page<T>(items: T[], token: string | undefined, size: number): { items: T[]; next?: string } {
  const start = token ? Number(Buffer.from(token, "base64url").toString()) : 0;
  const end = start + size;
  const next = end < items.length ? Buffer.from(String(end)).toString("base64url") : undefined;
  return { items: items.slice(start, end), ...(next ? { next } : {}) };
}

export class FakeEc2 {
  /** Every DescribeInstances input received, in order. */
  readonly calls: DescribeInstancesCommand["input"][] = [];
  /** When set, every call throws this (e.g. an AccessDenied). */
  failWith: Error | undefined;

  constructor(
    readonly instances: FakeInstance[],
    /** Most instances per page whatever MaxResults says (AWS may return fewer than asked). */
    readonly pageCap = 1000,
  ) {}

  async send(command: DescribeInstancesCommand): Promise<DescribeInstancesCommandOutput> {
    if (!(command instanceof DescribeInstancesCommand))
      throw new Error("FakeEc2 only serves DescribeInstances");
    const input = command.input;
    this.calls.push(input);
    if (this.failWith) throw this.failWith;
    const max = input.MaxResults;
    if (max !== undefined && (max < 5 || max > 1000)) {
      throw clientError(EC2ServiceException, "InvalidParameterValue", `MaxResults ${max} must be 5-1000`);
    }
    // Like EC2, a page is a window over all instances that is filtered afterwards, so a page
    // may hold fewer matches than asked for — or none — and still carry a NextToken.
    const chunk = page(this.instances, input.NextToken, Math.min(max ?? 1000, this.pageCap));
    const items = chunk.items.filter((instance) =>
      (input.Filters ?? []).every((filter) => {
        const have = filterValues(instance, filter.Name ?? "");
        if (have === undefined) {
          throw clientError(
            EC2ServiceException,
            "InvalidParameterValue",
            `The filter '${filter.Name}' is invalid`,
          );
        }
        return (filter.Values ?? []).some((pattern) => have.some((value) => wildcard(pattern, value)));
      }),
    );
    const next = chunk.next;
    return {
      $metadata: {},
      // One reservation per instance, like instances launched one by one.
      Reservations: items.map((instance) => ({
        ReservationId: `r-${instance.id.slice(2)}`,
        Instances: [
          {
            InstanceId: instance.id,
            LaunchTime: instance.launchTime,
            State: { Name: instance.state },
            ...(instance.privateIp ? { PrivateIpAddress: instance.privateIp } : {}),
            ...(instance.publicIp ? { PublicIpAddress: instance.publicIp } : {}),
            Tags: Object.entries(instance.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
          },
        ],
      })),
      ...(next ? { NextToken: next } : {}),
    };
  }
}

export class FakeSsm {
  readonly calls: DescribeInstanceInformationInput[] = [];
  failWith: Error | undefined;

  constructor(
    readonly instances: FakeInstance[],
    readonly pageCap = 50,
  ) {}

  async describeInstanceInformation(
    input: DescribeInstanceInformationInput,
  ): Promise<DescribeInstanceInformationOutput> {
    this.calls.push(input);
    if (this.failWith) throw this.failWith;
    const max = input.MaxResults;
    if (max !== undefined && (max < 5 || max > 50)) {
      throw ssmError("ValidationException", `MaxResults ${max} must be 5-50`);
    }
    const ids = input.Filters?.find((filter) => filter.Key === "InstanceIds")?.Values;
    const registered = this.instances.filter((i) => i.ping !== undefined && (!ids || ids.includes(i.id)));
    const { items, next } = page(registered, input.NextToken, Math.min(max ?? 50, this.pageCap));
    return {
      InstanceInformationList: items.map((instance) => ({
        InstanceId: instance.id,
        ...(instance.ping ? { PingStatus: instance.ping } : {}),
      })),
      ...(next ? { NextToken: next } : {}),
    };
  }
}

export { clientError, ssmError };
