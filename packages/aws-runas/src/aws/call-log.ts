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

/** What a call's logging needs to know of its answer: the SDK's `$metadata` fields. */
export interface CallMetadata {
  readonly httpStatusCode?: number;
  readonly attempts?: number;
}

export interface CallBoundary {
  /** `"<service label> <operation>"`, e.g. `"SSM StartSession"`. */
  readonly operation: string;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly renew?: RenewCredentials | undefined;
}

/**
 * The AWS boundary around one API call (retries included): logs it at debug level — service,
 * operation, HTTP status, attempts and duration — and turns every failure into our classified
 * {@link AwsError} (`classifyAwsError`), so no caller ever sees a raw exception. When AWS
 * rejects the credentials and `renew` can replace them, the call is made once more. It never
 * logs inputs or outputs, which may hold secrets.
 */
export async function boundedCall<T>(
  boundary: CallBoundary,
  call: () => Promise<T>,
  metadataOf: (result: T) => CallMetadata | undefined,
): Promise<T> {
  const { operation, logger, renew } = boundary;
  const now = boundary.now ?? (() => performance.now());
  const once = async (): Promise<T> => {
    const started = now();
    const elapsed = () => `${Math.round(now() - started)} ms`;
    try {
      const result = await call();
      const meta = metadataOf(result);
      logger.debug(
        `aws: ${operation} -> ${meta?.httpStatusCode ?? "?"}${attempts(meta?.attempts)} in ${elapsed()}`,
      );
      return result;
    } catch (error) {
      recordFailedOperation(error, operation);
      const meta = (error as { $metadata?: CallMetadata }).$metadata;
      const name = error instanceof Error ? error.name : "error";
      logger.debug(
        `aws: ${operation} -> ${meta?.httpStatusCode ?? "no response"} ${name}${attempts(meta?.attempts)} in ${elapsed()}`,
      );
      throw classifyAwsError(error, operation);
    }
  };
  try {
    return await once();
  } catch (error) {
    if (!(renew && error instanceof AwsError && error.kind === "credentials")) throw error;
    if (!(await renew(error))) throw error;
    logger.debug(`aws: ${operation}: credentials renewed, trying again`);
    return once();
  }
}

/** Adds {@link boundedCall} to an SDK client, outside the SDK's own retries. */
export function addCallLogging<I extends object, O extends MetadataBearer>(
  stack: MiddlewareStack<I, O>,
  serviceLabel: string,
  logger: Logger,
  now: () => number = () => performance.now(),
  renew?: RenewCredentials,
): void {
  stack.add(
    (next, context: HandlerExecutionContext) =>
      (args: InitializeHandlerArguments<I>): Promise<InitializeHandlerOutput<O>> =>
        boundedCall(
          {
            operation: `${serviceLabel} ${(context.commandName ?? "call").replace(/Command$/, "")}`,
            logger,
            now,
            renew,
          },
          () => next(args),
          (result) => result.output.$metadata,
        ),
    // Outermost: nothing the SDK does for the call (its retries included) escapes unclassified.
    { step: "initialize", priority: "high", name: "runasCallLogging", override: true },
  );
}

function attempts(n: number | undefined): string {
  return n !== undefined && n > 1 ? ` after ${n} attempts` : "";
}
