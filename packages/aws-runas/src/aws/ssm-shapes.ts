/**
 * The SSM operations aws-runas calls, their inputs as the API names them, and their outputs
 * read from the answer's JSON: only the fields we use, each kept only when it has the right
 * type. Pure.
 */

export interface StartSessionInput {
  Target: string;
  DocumentName?: string;
  Parameters?: Record<string, string[]>;
  Reason?: string;
}

/** StartSession's and ResumeSession's answer. */
export interface SessionOutput {
  SessionId?: string;
  TokenValue?: string;
  StreamUrl?: string;
}

export interface SessionIdInput {
  SessionId: string;
}

export interface DescribeInstanceInformationInput {
  Filters?: Array<{ Key: string; Values: string[] }>;
  MaxResults?: number;
  NextToken?: string;
}

/** One managed instance of DescribeInstanceInformation. */
export interface InstanceInformation {
  InstanceId?: string;
  PingStatus?: string;
  Name?: string;
  ComputerName?: string;
  IPAddress?: string;
  PlatformType?: string;
  AgentVersion?: string;
}

export interface DescribeInstanceInformationOutput {
  InstanceInformationList?: InstanceInformation[];
  NextToken?: string;
}

type Json = Record<string, unknown>;

export function sessionOutput(json: Json): SessionOutput {
  return strings(json, ["SessionId", "TokenValue", "StreamUrl"]);
}

export function describeInstanceInformationOutput(json: Json): DescribeInstanceInformationOutput {
  const list = json.InstanceInformationList;
  const out: DescribeInstanceInformationOutput = strings(json, ["NextToken"]);
  if (Array.isArray(list)) {
    out.InstanceInformationList = list
      .filter((item): item is Json => typeof item === "object" && item !== null)
      .map((item) =>
        strings(item, [
          "InstanceId",
          "PingStatus",
          "Name",
          "ComputerName",
          "IPAddress",
          "PlatformType",
          "AgentVersion",
        ]),
      );
  }
  return out;
}

function strings<K extends string>(json: Json, names: readonly K[]): { [P in K]?: string } {
  const out: { [P in K]?: string } = {};
  for (const name of names) {
    const value = json[name];
    if (typeof value === "string") out[name] = value;
  }
  return out;
}
