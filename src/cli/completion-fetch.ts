/**
 * The cache miss of `completion-targets.ts`: the profile's credentials (never prompting) and the
 * instance list, as Tab candidates.
 */
import { createClient } from "../aws/index.js";
import { resolveCredentials } from "../credentials/index.js";
import { listManagedInstances } from "../instances/fetch.js";
import { sortInstances } from "../instances/table.js";
import { silentLogger } from "../log.js";
import { targetCandidates } from "./completion-targets.js";
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
