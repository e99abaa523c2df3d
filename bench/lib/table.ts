/**
 * The one comparison table `npm run bench` prints (pure): rows of `what | ours | limit/reference |
 * ratio | goal | met?`, rendered as a markdown table so it can be pasted into the README as is.
 */
import type { Summary } from "./stats.js";

/** Units the table knows how to print. */
export const Units = ["MiB/s", "ms", "op/s", "MiB", "s/GiB"] as const;
export type Unit = (typeof Units)[number];

/** A measured figure. */
export interface Measured {
  kind: "measured";
  summary: Summary;
  unit: Unit;
  /** Shown after the figure, e.g. "1 of 5 runs stalled". */
  note?: string;
}

/** A figure that could not be taken, with the reason shown in its cell ("not installed", an error). */
export interface Missing {
  kind: "missing";
  reason: string;
}

export type Cell = Measured | Missing;

/** One line of the table. `met` is decided by the suite that measured it (goals differ in shape). */
export interface Row {
  what: string;
  ours: Cell;
  /** What `ours` is compared with: a limit (loopback, emulator ceiling) or another tool. */
  reference?: { label: string; cell: Cell };
  goal?: string;
  met?: boolean;
  /** Another reference for the row above: `what` and `ours` print as a ditto mark. */
  continued?: boolean;
}

/**
 * One measurement against several references: the first shares the row with the goal, each
 * other one gets a continued row (so every comparison keeps its own ratio).
 */
export function compareRows(
  what: string,
  ours: Cell,
  references: ReadonlyArray<{ label: string; cell: Cell }>,
  goal?: { text: string; met: boolean | undefined },
): Row[] {
  const [first, ...rest] = references;
  const head: Row = { what, ours };
  if (first) head.reference = first;
  if (goal) {
    head.goal = goal.text;
    if (goal.met !== undefined) head.met = goal.met;
  }
  return [head, ...rest.map((reference): Row => ({ what, ours, reference, continued: true }))];
}

/** The median of a measured cell; undefined for a missing one. */
export function medianOf(cell: Cell | undefined): number | undefined {
  return cell?.kind === "measured" ? cell.summary.median : undefined;
}

/**
 * A goal against a reference: ours' median ≤ limit(the reference's median). Not met when ours
 * was not measured; undecided (undefined) when the reference was not.
 */
export function medianAtMost(
  ours: Cell,
  reference: Cell,
  limit: (referenceMedian: number) => number,
): boolean | undefined {
  const a = medianOf(ours);
  const b = medianOf(reference);
  if (a === undefined) return false;
  if (b === undefined) return undefined;
  return a <= limit(b);
}

export function measured(summary: Summary, unit: Unit, note?: string): Measured {
  return note === undefined ? { kind: "measured", summary, unit } : { kind: "measured", summary, unit, note };
}

export function missing(reason: string): Missing {
  return { kind: "missing", reason };
}

/** A number with about three significant digits, without exponent notation. */
export function formatNumber(value: number, unit?: Unit): string {
  if (!Number.isFinite(value)) return "n/a";
  if (unit === "op/s" && Math.abs(value) >= 10_000) return `${formatNumber(value / 1000)}k`;
  const abs = Math.abs(value);
  const decimals = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toFixed(decimals);
}

/** `median unit (min–max)`, or the reason a figure is missing. */
export function formatCell(cell: Cell): string {
  if (cell.kind === "missing") return cell.reason;
  const { median, min, max, runs } = cell.summary;
  const spread = runs > 1 ? ` (${formatNumber(min, cell.unit)}–${formatNumber(max, cell.unit)})` : "";
  const note = cell.note ? `; ${cell.note}` : "";
  return `${formatNumber(median, cell.unit)} ${cell.unit}${spread}${note}`;
}

/** ours ÷ reference as `0.52×`, when both are measured in the same unit. */
export function ratioOf(row: Row): number | undefined {
  const ref = row.reference?.cell;
  if (row.ours.kind !== "measured" || ref?.kind !== "measured" || ref.unit !== row.ours.unit)
    return undefined;
  if (ref.summary.median === 0) return undefined;
  return row.ours.summary.median / ref.summary.median;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** Renders the rows as a markdown table. */
export function renderTable(rows: readonly Row[]): string {
  const header = ["what", "ours", "limit/reference", "ratio", "goal", "met?"];
  const lines = rows.map((row) => {
    const ratio = ratioOf(row);
    const ref = row.reference ? `${row.reference.label}: ${formatCell(row.reference.cell)}` : "";
    const met = row.met === undefined ? "" : row.met ? "yes" : "**no**";
    return [
      row.continued ? "〃" : row.what,
      row.continued ? "〃" : formatCell(row.ours),
      ref,
      ratio === undefined ? "" : `${ratio.toFixed(2)}×`,
      row.goal ?? "",
      met,
    ].map(escapeCell);
  });
  const out = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const cells of lines) out.push(`| ${cells.join(" | ")} |`);
  return out.join("\n");
}
