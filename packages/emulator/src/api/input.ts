/**
 * Reading request inputs with AWS-style validation errors: JSON 1.1 bodies and query-protocol
 * parameters (`InstanceId.1`, `Filter.1.Name`, `Filter.1.Value.1`...). Pure.
 */
import { ApiError, constraintMessage, validationError, type WireProtocol } from "./errors.js";

const lowerFirst = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);

function notNull(protocol: WireProtocol, name: string): ApiError {
  return validationError(
    protocol,
    `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
  );
}

/** Typed access to a JSON request body. */
export class JsonInput {
  readonly #body: Record<string, unknown>;
  readonly #protocol: WireProtocol;

  constructor(body: Record<string, unknown>, protocol: WireProtocol = "json") {
    this.#body = body;
    this.#protocol = protocol;
  }

  #wrongType(name: string, expected: string): ApiError {
    return new ApiError("SerializationException", `${name} must be ${expected}`);
  }

  /** An optional string; `undefined` when absent or null. */
  string(name: string, pattern?: RegExp): string | undefined {
    const value = this.#body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") throw this.#wrongType(name, "a string");
    if (value.length === 0) {
      throw validationError(
        this.#protocol,
        constraintMessage(value, lowerFirst(name), "Member must have length greater than or equal to 1"),
      );
    }
    if (pattern && !pattern.test(value)) {
      throw validationError(
        this.#protocol,
        constraintMessage(
          value,
          lowerFirst(name),
          `Member must satisfy regular expression pattern: ${pattern.source}`,
        ),
      );
    }
    return value;
  }

  requiredString(name: string, pattern?: RegExp): string {
    const value = this.string(name, pattern);
    if (value === undefined) throw notNull(this.#protocol, name);
    return value;
  }

  /** An optional integer within [min, max]. */
  integer(name: string, min: number, max: number): number | undefined {
    const value = this.#body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value)) throw this.#wrongType(name, "an integer");
    if (value < min) {
      throw validationError(
        this.#protocol,
        constraintMessage(value, lowerFirst(name), `Member must have value greater than or equal to ${min}`),
      );
    }
    if (value > max) {
      throw validationError(
        this.#protocol,
        constraintMessage(value, lowerFirst(name), `Member must have value less than or equal to ${max}`),
      );
    }
    return value;
  }

  /** An optional map of strings (e.g. KMS EncryptionContext). */
  stringMap(name: string): Record<string, string> | undefined {
    const value = this.#body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) throw this.#wrongType(name, "a map of strings");
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== "string") throw this.#wrongType(`${name}.${k}`, "a string");
      out[k] = v;
    }
    return out;
  }

  /** An optional map of string lists (SSM StartSession Parameters). */
  stringListMap(name: string): Record<string, string[]> | undefined {
    const value = this.#body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "object" || Array.isArray(value))
      throw this.#wrongType(name, "a map of string lists");
    const out: Record<string, string[]> = {};
    for (const [k, list] of Object.entries(value)) {
      if (!Array.isArray(list) || list.some((x) => typeof x !== "string"))
        throw this.#wrongType(`${name}.${k}`, "a list of strings");
      out[k] = list as string[];
    }
    return out;
  }

  /** An optional list of objects (filters). */
  objects(name: string): Record<string, unknown>[] | undefined {
    const value = this.#body[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((x) => typeof x !== "object" || x === null || Array.isArray(x))) {
      throw this.#wrongType(name, "a list of objects");
    }
    return value as Record<string, unknown>[];
  }

  /** An optional list of strings. */
  strings(name: string): string[] | undefined {
    const value = this.#body[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((x) => typeof x !== "string"))
      throw this.#wrongType(name, "a list of strings");
    return value as string[];
  }

  /** An optional base64 blob. */
  blob(name: string): Buffer | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw this.#wrongType(name, "base64");
    return Buffer.from(value, "base64");
  }
}

/** `Prefix.1`, `Prefix.2`, … in index order (query-protocol lists). */
export function queryList(params: URLSearchParams, prefix: string): string[] {
  const items: [number, string][] = [];
  for (const [key, value] of params) {
    const m = new RegExp(`^${prefix.replace(/\./g, "\\.")}\\.(\\d+)$`).exec(key);
    if (m) items.push([Number(m[1]), value]);
  }
  return items.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

/** An EC2 filter: name and the values any of which may match. */
export interface QueryFilter {
  name: string;
  values: string[];
}

/** `Filter.N.Name` / `Filter.N.Value.M` pairs, in index order. */
export function queryFilters(params: URLSearchParams): QueryFilter[] {
  const byIndex = new Map<number, QueryFilter>();
  const get = (n: number) => {
    let f = byIndex.get(n);
    if (!f) {
      f = { name: "", values: [] };
      byIndex.set(n, f);
    }
    return f;
  };
  for (const [key, value] of params) {
    const name = /^Filter\.(\d+)\.Name$/.exec(key);
    if (name) get(Number(name[1])).name = value;
  }
  for (const n of byIndex.keys()) get(n).values = queryList(params, `Filter.${n}.Value`);
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, f]) => f);
}
