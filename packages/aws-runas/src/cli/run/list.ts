/** Runs `aws-runas ssm list`: every managed instance, as a table or JSON, on stdout. */
import { listManagedInstances } from "../../instances/fetch.js";
import {
  instancesJson,
  matchesFilters,
  parseInstanceFilter,
  renderInstanceTable,
  sortInstances,
} from "../../instances/table.js";
import type { RunContext } from "../context.js";
import type { ListInput } from "../inputs.js";
import { openAwsSession } from "./aws-session.js";

/** 128 + SIGPIPE, as shells report a writer whose reader went away. */
const SIGPIPE_EXIT = 141;

/** Table width when stdout is not a terminal. */
const DEFAULT_WIDTH = 80;

export async function runList(input: ListInput, ctx: RunContext): Promise<number> {
  const filters = input.filters.map(parseInstanceFilter);
  const aws = await openAwsSession(input, ctx);
  try {
    const all = await listManagedInstances({ ec2: await aws.client("ec2"), ssm: await aws.client("ssm") });
    const shown = sortInstances(all.filter((i) => matchesFilters(i, filters)));
    ctx.logger.debug(`${all.length} managed instances, ${shown.length} shown`);
    const width = ctx.stdout.isTTY && ctx.stdout.columns ? ctx.stdout.columns : DEFAULT_WIDTH;
    const text = input.json ? instancesJson(shown) : renderInstanceTable(shown, width);
    // A reader that went away (`… | head -1`) is no error worth a stack trace: exit like SIGPIPE.
    return await new Promise<number>((resolve) => {
      ctx.stdout.once("error", () => resolve(SIGPIPE_EXIT));
      ctx.stdout.write(text, (error) => {
        if (!error) resolve(0);
      });
    });
  } finally {
    aws.destroy();
  }
}
