/**
 * The cache miss of `completion-targets.ts`: the profile's credentials (never prompting) and the
 * instance list, as Tab candidates.
 */

import { silentLogger } from "@aws-runas/wire/log.js";
import { createClient } from "../aws/index.js";
import { resolveCredentials } from "../credentials/index.js";
import { listManagedInstances } from "../instances/fetch.js";
import { sortInstances } from "../instances/table.js";
import type { ManagedInstance } from "../instances/types.js";
import type { Env } from "./inputs.js";

// Tab output must stay clean: the SDK's Node-version warning is noise here (as in aws-session.ts).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export async function fetchCandidates(env: Env, profile: string | undefined): Promise<string[]> {
  const resolved = await resolveCredentials(
    { profile, env, flags: {} },
    {
      logger: silentLogger,
      writeErr: () => {},
      prompt: () => Promise.reject(new Error("completion never prompts")),
    },
  );
  if (!resolved.region) return [];
  const options = { region: resolved.region, credentials: resolved.provider, logger: silentLogger, env };
  const [ec2, ssm] = await Promise.all([createClient("ec2", options), createClient("ssm", options)]);
  try {
    return targetCandidates(sortInstances(await listManagedInstances({ ec2, ssm })));
  } finally {
    ec2.destroy();
    ssm.destroy();
  }
}

/** `i-…` ids and `Name:value` for names a shell word can hold (pure). */
export function targetCandidates(instances: readonly ManagedInstance[]): string[] {
  const ids = instances.map((i) => i.instanceId);
  const names = instances.filter((i) => i.name !== "" && !/\s/.test(i.name)).map((i) => `Name:${i.name}`);
  return [...new Set([...ids, ...names])];
}
