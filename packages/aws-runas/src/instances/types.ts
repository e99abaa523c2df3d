/** One instance as `ssm list`, the picker and completion show it. Data only. */
export interface ManagedInstance {
  instanceId: string;
  /** The `Name` tag (EC2), else the SSM computer name; "" when neither exists. */
  name: string;
  privateIp: string;
  /** SSM `PlatformType` (Linux, Windows, MacOS). */
  platform: string;
  agentVersion: string;
  /** SSM `PingStatus` (Online, ConnectionLost, Inactive). */
  pingStatus: string;
  /** EC2 state (running, stopped …); "" for hybrid `mi-` instances. */
  state: string;
  tags: Record<string, string>;
}
