/**
 * Ordering, filtering and printing of instance lists (`ssm list`, the picker). Pure.
 */
import { UsageError } from "@aws-runas/wire/errors.js";
import type { ManagedInstance } from "./types.js";

/** Online agents first, then by name, then by id. */
export function sortInstances(instances: readonly ManagedInstance[]): ManagedInstance[] {
  const rank = (i: ManagedInstance) => (i.pingStatus === "Online" ? 0 : 1);
  return [...instances].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      a.name.localeCompare(b.name, "en", { numeric: true, sensitivity: "base" }) ||
      compare(a.instanceId, b.instanceId),
  );
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A `--filter`: a tag key and a value pattern with EC2 wildcards (`*`, `?`). */
export interface InstanceFilter {
  key: string;
  pattern: string;
}

/** `Name=web*` or `Name:web*` (the target tag syntax). */
export function parseInstanceFilter(text: string): InstanceFilter {
  const m = /^([^=:]+)[=:](.*)$/.exec(text);
  if (!m || m[1]!.trim() === "") {
    throw new UsageError(
      `invalid --filter ${JSON.stringify(text)}: expected key=value`,
      "e.g. --filter Name=web* or --filter env:prod",
    );
  }
  return { key: m[1]!, pattern: m[2]! };
}

/** True when the instance's tag (or, for `Name`, its shown name) matches every filter. */
export function matchesFilters(instance: ManagedInstance, filters: readonly InstanceFilter[]): boolean {
  return filters.every((f) => {
    const value = f.key === "Name" ? instance.name : instance.tags[f.key];
    return value !== undefined && globToRegExp(f.pattern).test(value);
  });
}

/** EC2 wildcards: `*` any run, `?` one character; everything else literal. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === "*" ? ".*" : c === "?" ? "." : `\\${c}`));
  return new RegExp(`^${body}$`, "s");
}

const COLUMNS = ["INSTANCE ID", "NAME", "PRIVATE IP", "PLATFORM", "AGENT", "PING"] as const;
const NAME_COLUMN = 1;
const GAP = " ";

function cells(i: ManagedInstance): string[] {
  return [
    i.instanceId,
    i.name || "-",
    i.privateIp || "-",
    i.platform || "-",
    i.agentVersion || "-",
    i.pingStatus || "-",
  ];
}

/**
 * The table, at most `width` columns wide: every column as wide as its content, except NAME,
 * which is cut (with `…`) when the line would be too long. Ends with a newline.
 */
export function renderInstanceTable(instances: readonly ManagedInstance[], width = 80): string {
  const rows = [COLUMNS.map(String), ...instances.map(cells)];
  const widths = COLUMNS.map((_, c) => Math.max(...rows.map((r) => [...r[c]!].length)));
  const others = widths.reduce((sum, w, c) => (c === NAME_COLUMN ? sum : sum + w), 0);
  const room = width - others - GAP.length * (COLUMNS.length - 1);
  widths[NAME_COLUMN] = Math.max(COLUMNS[NAME_COLUMN].length, Math.min(widths[NAME_COLUMN]!, room));
  return rows
    .map((row) =>
      row
        .map((cell, c) => {
          const w = widths[c]!;
          const text = fit(cell, w);
          return c === row.length - 1 ? text : text.padEnd(w);
        })
        .join(GAP)
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join("");
}

function fit(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join("")}…`;
}

/** `--json`: one array, keys in a fixed order. */
export function instancesJson(instances: readonly ManagedInstance[]): string {
  return `${JSON.stringify(
    instances.map((i) => ({
      instanceId: i.instanceId,
      name: i.name,
      privateIp: i.privateIp,
      platform: i.platform,
      agentVersion: i.agentVersion,
      pingStatus: i.pingStatus,
      state: i.state,
      tags: i.tags,
    })),
    null,
    2,
  )}\n`;
}
