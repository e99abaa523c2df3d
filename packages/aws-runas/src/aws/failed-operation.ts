/**
 * Which SDK operation (`"SSM StartSession"`) a failed call's error came from: recorded by the
 * call-logging middleware, read by error classification. A leaf of its own, so that those two
 * modules do not import each other.
 */
const failedOperations = new WeakMap<object, string>();

/** Remembers that `error` came from `operation`. */
export function recordFailedOperation(error: unknown, operation: string): void {
  if (typeof error === "object" && error !== null) failedOperations.set(error, operation);
}

/** The `"<service> <operation>"` a failed SDK call's error belongs to, if the factory saw it. */
export function operationOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null ? failedOperations.get(error) : undefined;
}
