import type {
  HandlerExecutionContext,
  InitializeHandlerArguments,
  InitializeHandlerOutput,
  MetadataBearer,
  MiddlewareStack,
} from "@smithy/types";
import type { Logger } from "../log.js";

/** Operation (`"SSM StartSession"`) each failed call's error came from, for error messages. */
const failedOperations = new WeakMap<object, string>();

/** The `"<service> <operation>"` a failed SDK call's error belongs to, if the factory saw it. */
export function operationOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null ? failedOperations.get(error) : undefined;
}

/**
 * Adds a middleware that logs each API call at debug level — service, operation, HTTP status,
 * attempts and duration — and remembers the operation of a failed call for
 * {@link operationOf}. It never logs inputs or outputs, which may hold secrets.
 */
export function addCallLogging<I extends object, O extends MetadataBearer>(
  stack: MiddlewareStack<I, O>,
  serviceLabel: string,
  logger: Logger,
  now: () => number = () => performance.now(),
): void {
  stack.add(
    (next, context: HandlerExecutionContext) =>
      async (args: InitializeHandlerArguments<I>): Promise<InitializeHandlerOutput<O>> => {
        const operation = `${serviceLabel} ${(context.commandName ?? "call").replace(/Command$/, "")}`;
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
          if (typeof error === "object" && error !== null) failedOperations.set(error, operation);
          const meta = (error as Partial<MetadataBearer>).$metadata;
          const name = error instanceof Error ? error.name : "error";
          logger.debug(
            `aws: ${operation} -> ${meta?.httpStatusCode ?? "no response"} ${name}${attempts(meta?.attempts)} in ${elapsed()}`,
          );
          throw error;
        }
      },
    { step: "initialize", name: "runasCallLogging", override: true },
  );
}

function attempts(n: number | undefined): string {
  return n !== undefined && n > 1 ? ` after ${n} attempts` : "";
}
