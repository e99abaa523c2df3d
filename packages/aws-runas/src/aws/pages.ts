/**
 * Paging through an AWS list operation (NextToken), with a bound: a broken endpoint that keeps
 * returning tokens must not loop forever.
 */
import { RunasError } from "@aws-runas/wire/errors.js";

const MAX_PAGES = 1000;

/** Calls `readPage` with each NextToken until a page comes back without one. */
export async function readPages(
  operation: string,
  readPage: (token: string | undefined) => Promise<string | undefined>,
): Promise<void> {
  let token: string | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    token = await readPage(token);
    if (!token) return;
  }
  throw new RunasError("AWS_TOO_MANY_PAGES", `${operation} returned more than ${MAX_PAGES} pages`, {
    hint: "check AWS_ENDPOINT_URL: the endpoint keeps returning NextToken",
  });
}
