import { AwsError } from "@aws-runas/wire/errors.js";
import type { Logger } from "@aws-runas/wire/log.js";
import type {
  HandlerExecutionContext,
  InitializeHandlerArguments,
  InitializeHandlerOutput,
  MetadataBearer,
  MiddlewareStack,
} from "@smithy/types";
import { classifyAwsError } from "./errors.js";
import { recordFailedOperation } from "./failed-operation.js";

export { operationOf } from "./failed-operation.js";

/**
 * Called when AWS rejects the credentials of a call (`kind: "credentials"`): drop cached
 * credentials and get new ones; resolve true when the call should be tried once more.
 */
export type RenewCredentials = (rejected: AwsError) => Promise<boolean>;

/**
 * Adds the AWS boundary to a client: a middleware outside the SDK's own retries that logs each
 * API call at debug level — service, operation, HTTP status, attempts and duration — and turns
 * every failure into our classified {@link AwsError} (`classifyAwsError`), so no caller ever
 * sees a raw SDK exception. When AWS rejects the credentials and `renew` can replace them, the
 * call is made once more. It never logs inputs or outputs, which may hold secrets.
 */
export function addCallLogging<I extends object, O extends MetadataBearer>(
  stack: MiddlewareStack<I, O>,
  serviceLabel: string,
  logger: Logger,
  now: () => number = () => performance.now(),
  renew?: RenewCredentials,
): void {
  stack.add(
    (next, context: HandlerExecutionContext) =>
      async (args: InitializeHandlerArguments<I>): Promise<InitializeHandlerOutput<O>> => {
        const operation = `${serviceLabel} ${(context.commandName ?? "call").replace(/Command$/, "")}`;
        const call = async (): Promise<InitializeHandlerOutput<O>> => {
          const started = now();
          const elapsed = () => `${Math.round(now() - started)} ms`;
          try {
            const result = await next(args);
            const meta = result.output.$metadata;
            logger.debug(
              `aws: ${operation} -> ${meta.httpStatusCode ?? "?"}${attempts(meta.attempts)} in ${elapsed()}`,
            );
            return result;
          } catch (error) {
            recordFailedOperation(error, operation);
            const meta = (error as Partial<MetadataBearer>).$metadata;
            const name = error instanceof Error ? error.name : "error";
            logger.debug(
              `aws: ${operation} -> ${meta?.httpStatusCode ?? "no response"} ${name}${attempts(meta?.attempts)} in ${elapsed()}`,
            );
            throw classifyAwsError(error, operation);
          }
        };
        try {
          return await call();
        } catch (error) {
          if (!(renew && error instanceof AwsError && error.kind === "credentials")) throw error;
          if (!(await renew(error))) throw error;
          logger.debug(`aws: ${operation}: credentials renewed, trying again`);
          return call();
        }
      },
    // Outermost: nothing the SDK does for the call (its retries included) escapes unclassified.
    { step: "initialize", priority: "high", name: "runasCallLogging", override: true },
  );
}

function attempts(n: number | undefined): string {
  return n !== undefined && n > 1 ? ` after ${n} attempts` : "";
}
