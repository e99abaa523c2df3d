/** `aws-runas ssm list` argv → {@link ListInput} (pure). */
import { UsageError } from "@aws-runas/wire/errors.js";
import { parseInstanceFilter } from "../../instances/table.js";
import type { Env, ListInput } from "../inputs.js";
import { type GlobalOptionValues, parseGlobalInput } from "./global.js";

export const LIST_USAGE = "aws-runas ssm list [command options] [profile_name]";

export interface ListOptionValues extends GlobalOptionValues {
  json?: boolean;
  filter?: string[];
}

export function parseListInput(opts: ListOptionValues, args: readonly string[], env: Env): ListInput {
  if (args.length > 1) {
    throw new UsageError(
      `too many arguments: ${args
        .slice(1)
        .map((a) => JSON.stringify(a))
        .join(" ")}`,
      `usage: ${LIST_USAGE}`,
    );
  }
  const filters = opts.filter ?? [];
  for (const filter of filters) parseInstanceFilter(filter); // fail at parse time, with the hint
  return {
    command: "list",
    global: parseGlobalInput(opts, env),
    profile: args[0],
    json: opts.json === true,
    filters,
  };
}
