/** The AWS services aws-runas talks to, with the names the SDK and its endpoint variables use. */
export const SERVICES = {
  ssm: { label: "SSM", envSuffix: "SSM" },
  ec2: { label: "EC2", envSuffix: "EC2" },
  sts: { label: "STS", envSuffix: "STS" },
  "ec2-instance-connect": { label: "EC2 Instance Connect", envSuffix: "EC2_INSTANCE_CONNECT" },
  kms: { label: "KMS", envSuffix: "KMS" },
} as const;

/** One of {@link SERVICES}' keys. */
export type ServiceName = keyof typeof SERVICES;
