/**
 * EC2 (query protocol, API version 2016-11-15): DescribeInstances over the fixture's `i-`
 * instances, with instance ids, filters and NextToken/MaxResults pagination like the real API.
 */
import type { Fixture, FixtureInstance } from "../fixture/types.js";
import type { ApiCall, ApiContext, QueryOperation } from "./context.js";
import { effectiveAddresses, instanceMatches, STATE_CODE } from "./ec2-filters.js";
import { ApiError } from "./errors.js";
import { queryFilters, queryList } from "./input.js";
import { decodeNextToken, page, queryFingerprint } from "./pagination.js";
import type { XmlValue } from "./xml.js";

/** XML namespace of EC2 responses. */
export const EC2_XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/";

const hex = (id: string) => id.replace(/^m?i-/, "");

function privateDnsName(instance: FixtureInstance, region: string): string {
  const host = instance.privateIp ? `ip-${instance.privateIp.replace(/\./g, "-")}` : instance.instanceId;
  return region === "us-east-1" ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}

function publicDnsName(ip: string | undefined, region: string): string {
  if (!ip) return "";
  const host = `ec2-${ip.replace(/\./g, "-")}`;
  return region === "us-east-1"
    ? `${host}.compute-1.amazonaws.com`
    : `${host}.${region}.compute.amazonaws.com`;
}

/** One `instancesSet/item` as EC2 writes it. */
function instanceXml(instance: FixtureInstance, fixture: Fixture): { [name: string]: XmlValue } {
  const { region, accountId } = fixture;
  const addr = effectiveAddresses(instance);
  const subnetId = `subnet-${hex(instance.instanceId).slice(0, 8)}`;
  // One VPC for the whole fixture; ids are hex like every EC2 resource id.
  const vpcId = "vpc-0a1b2c3d4e5f60718";
  const publicDns = publicDnsName(addr.publicIp, region);
  const association = addr.publicIp
    ? { publicIp: addr.publicIp, publicDnsName: publicDns, ipOwnerId: "amazon" }
    : undefined;
  const running = instance.state === "running";
  return {
    instanceId: instance.instanceId,
    imageId: "ami-0abcdef1234567890",
    instanceState: { code: STATE_CODE[instance.state], name: instance.state },
    privateDnsName: privateDnsName(instance, region),
    dnsName: publicDns,
    reason: running ? "" : "User initiated",
    amiLaunchIndex: 0,
    instanceType: instance.instanceType ?? "t3.micro",
    launchTime: instance.launchTime,
    placement: {
      availabilityZone: instance.availabilityZone ?? `${region}a`,
      groupName: "",
      tenancy: "default",
    },
    platform: instance.platform === "Windows" ? "windows" : undefined,
    platformDetails: instance.platform === "Windows" ? "Windows" : "Linux/UNIX",
    monitoring: { state: "disabled" },
    subnetId,
    vpcId,
    privateIpAddress: addr.privateIp,
    ipAddress: addr.publicIp,
    ipv6Address: addr.ipv6,
    architecture: "x86_64",
    rootDeviceType: "ebs",
    rootDeviceName: "/dev/xvda",
    tagSet: Object.entries(instance.tags).map(([key, value]) => ({ key, value })),
    networkInterfaceSet: [
      {
        networkInterfaceId: `eni-${hex(instance.instanceId)}`,
        subnetId,
        vpcId,
        ownerId: accountId,
        status: "in-use",
        privateIpAddress: addr.privateIp,
        privateDnsName: privateDnsName(instance, region),
        association,
        attachment: {
          attachmentId: `eni-attach-${hex(instance.instanceId)}`,
          deviceIndex: 0,
          status: "attached",
        },
        privateIpAddressesSet: addr.privateIp
          ? [
              {
                privateIpAddress: addr.privateIp,
                privateDnsName: privateDnsName(instance, region),
                primary: true,
                association,
              },
            ]
          : undefined,
        ipv6AddressesSet: addr.ipv6 ? [{ ipv6Address: addr.ipv6, isPrimaryIpv6: false }] : undefined,
      },
    ],
  };
}

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

const describeInstances: QueryOperation = (call: ApiCall, ctx: ApiContext) => {
  const { params } = call;
  const { fixture } = ctx;
  if (params.get("DryRun") === "true") {
    throw new ApiError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412);
  }
  const ids = queryList(params, "InstanceId");
  const filters = queryFilters(params);
  const maxText = params.get("MaxResults");
  let maxResults: number | undefined;
  if (maxText !== null) {
    if (ids.length > 0) {
      throw new ApiError(
        "InvalidParameterCombination",
        "The parameter instancesSet cannot be used with the parameter maxResults",
      );
    }
    maxResults = Number(maxText);
    if (!Number.isInteger(maxResults) || maxResults < 5 || maxResults > 1000) {
      throw new ApiError(
        "InvalidParameterValue",
        `Value ( ${maxText} ) for parameter maxResults is invalid. Expecting a value ${maxResults < 5 ? "greater than 5" : "less than 1000"}.`,
      );
    }
  }
  const ec2Instances = fixture.instances.filter((i) => i.instanceId.startsWith("i-"));
  for (const id of ids) {
    if (!INSTANCE_ID.test(id)) throw new ApiError("InvalidInstanceID.Malformed", `Invalid id: "${id}"`);
  }
  const missing = ids.filter((id) => !ec2Instances.some((i) => i.instanceId === id));
  if (missing.length > 0) {
    const plural = missing.length > 1;
    throw new ApiError(
      "InvalidInstanceID.NotFound",
      `The instance ID${plural ? "s" : ""} '${missing.join(", ")}' do${plural ? "" : "es"} not exist`,
    );
  }
  const selected = ec2Instances.filter(
    (i) => (ids.length === 0 || ids.includes(i.instanceId)) && instanceMatches(i, filters, fixture.region),
  );
  const fingerprint = queryFingerprint({ ids, filters, maxResults });
  let offset = 0;
  const token = params.get("NextToken");
  if (token !== null && token !== "") {
    const decoded = decodeNextToken(token, fingerprint);
    if (decoded === undefined)
      throw new ApiError(
        "InvalidPaginationToken",
        "The specified pagination token is not valid or is expired.",
      );
    offset = decoded;
  }
  const result = page(selected, offset, maxResults ?? 1000, fingerprint);
  return {
    reservationSet: result.items.map((instance) => ({
      reservationId: `r-${hex(instance.instanceId)}`,
      ownerId: fixture.accountId,
      groupSet: [],
      instancesSet: [instanceXml(instance, fixture)],
    })),
    nextToken: result.nextToken,
  };
};

/** EC2 operations by Action name. */
export const ec2Operations: Readonly<Record<string, QueryOperation>> = {
  DescribeInstances: describeInstances,
};
