/**
 * Prints the top self-time functions of a `.cpuprofile` (as written by `node --cpu-prof`), with
 * bundle positions mapped back to `src/` through the bundle's source maps:
 *
 * ```
 * node --import tsx bench/profile-summary.ts <file.cpuprofile> [--top N]
 * ```
 *
 * `summarizeProfile()` is pure (profile in, table rows out); the source-map lookup and the file
 * reading live at the edge, in `sourceMapResolver()` and the command-line part.
 */
import { existsSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The parts of the V8 CPU profile format this summary reads. */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Where a function lives, for people: `src/mux/stream.ts:212` or `node:internal/streams/...:88`,
 * and its name in the source when the bundle renamed it (minified builds).
 */
export type Resolver = (url: string, line: number, column: number) => { location: string; name?: string };

export interface SelfTime {
  functionName: string;
  location: string;
  selfMs: number;
  /** Share of the busy (non-idle) time, 0..100. */
  percent: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  busyMs: number;
  /** By function, highest self time first. */
  functions: SelfTime[];
  /** By file (location without the line), highest self time first. */
  files: Array<{ file: string; selfMs: number; percent: number }>;
}

const plainLocation: Resolver = (url, line) => ({ location: url ? `${url}:${line + 1}` : "" });

/** The name a source line declares (`function x(`, `const x =`, `x(...) {`, `get x(`), if any. */
export function declaredName(line: string): string | undefined {
  const patterns = [
    /\bfunction\s*\*?\s*([\w$]+)/,
    /\b(?:const|let|var)\s+([\w$]+)\s*=/,
    /^\s*(?:(?:public|private|protected|static|async|override|readonly|get|set)\s+)*(#?[\w$]+)\s*(?:=\s*(?:async\s*)?\(|\()/,
    /^\s*(#?[\w$]+)\s*[:=]\s*(?:async\s*)?(?:\([^)]*\)|[\w$]+)\s*=>/,
  ];
  for (const pattern of patterns) {
    const m = pattern.exec(line);
    if (m?.[1] && !["if", "for", "while", "switch", "return", "catch"].includes(m[1])) return m[1];
  }
  return undefined;
}

/** Self time per function and per file; `resolve` turns bundle positions into source positions. */
export function summarizeProfile(profile: CpuProfile, resolve: Resolver = plainLocation): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const selfById = new Map<number, number>();
  // Sample i lasts until sample i+1 (the last one until endTime); timeDeltas[i] leads up to sample i.
  let at = profile.startTime;
  const stamps = profile.timeDeltas.map((delta) => {
    at += delta;
    return at;
  });
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const next = i + 1 < stamps.length ? stamps[i + 1]! : profile.endTime;
    const us = Math.max(0, next - (stamps[i] ?? profile.startTime));
    selfById.set(id, (selfById.get(id) ?? 0) + us);
  }
  const byFunction = new Map<string, { functionName: string; location: string; us: number }>();
  let idleUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfById) {
    totalUs += us;
    const frame = byId.get(id);
    if (!frame) continue;
    if (frame.functionName === "(idle)") {
      idleUs += us;
      continue;
    }
    const resolved = frame.url ? resolve(frame.url, frame.lineNumber, frame.columnNumber) : { location: "" };
    const location = resolved.location;
    const functionName = resolved.name ?? (frame.functionName || "(anonymous)");
    const key = `${functionName}\u0000${location}`;
    const entry = byFunction.get(key) ?? { functionName, location, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number) => (busyUs > 0 ? (100 * us) / busyUs : 0);
  const functions = [...byFunction.values()]
    .sort((a, b) => b.us - a.us)
    .map((e) => ({
      functionName: e.functionName,
      location: e.location,
      selfMs: e.us / 1000,
      percent: pct(e.us),
    }));
  const byFile = new Map<string, number>();
  for (const e of byFunction.values()) {
    const file = e.location.replace(/:\d+(:\d+)?$/, "") || e.functionName;
    byFile.set(file, (byFile.get(file) ?? 0) + e.us);
  }
  const files = [...byFile.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([file, us]) => ({ file, selfMs: us / 1000, percent: pct(us) }));
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, busyMs: busyUs / 1000, functions, files };
}

/**
 * A resolver that maps `file://` bundle positions through the `.map` file beside each script, and
 * prints every path relative to `base` (so no machine paths end up in reports).
 */
export function sourceMapResolver(base = process.cwd()): Resolver {
  const maps = new Map<string, SourceMap | null>();
  const load = (url: string): SourceMap | null => {
    if (maps.has(url)) return maps.get(url)!;
    let map: SourceMap | null = null;
    try {
      const path = fileURLToPath(url);
      if (existsSync(`${path}.map`)) map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, "utf8")));
    } catch {
      map = null;
    }
    maps.set(url, map);
    return map;
  };
  return (url, line, column) => {
    if (!url.startsWith("file://")) return { location: `${url}:${line + 1}` };
    const script = fileURLToPath(url);
    const map = load(url);
    const entry = map?.findEntry(line, column);
    if (map && entry && "originalSource" in entry && entry.originalSource) {
      const source = entry.originalSource.startsWith("file://")
        ? fileURLToPath(entry.originalSource)
        : new URL(entry.originalSource, url).pathname;
      const name = originalLine(map, entry.originalSource, entry.originalLine);
      return {
        location: `${relative(base, source)}:${entry.originalLine + 1}`,
        name: name && declaredName(name),
      };
    }
    return { location: `${relative(base, script)}:${line + 1}` };
  };
}

/** Line `line` (0-based) of `source` from the map's embedded sources, if it has them. */
function originalLine(map: SourceMap, source: string, line: number): string | undefined {
  const payload = map.payload as { sources?: string[]; sourcesContent?: Array<string | null> };
  const index = payload.sources?.indexOf(source) ?? -1;
  const content = index >= 0 ? payload.sourcesContent?.[index] : undefined;
  return content?.split("\n")[line];
}

/** The summary as text: the top `top` functions, then the top files. */
export function formatSummary(summary: ProfileSummary, top = 15): string {
  const lines = [
    `busy ${summary.busyMs.toFixed(0)} ms of ${summary.totalMs.toFixed(0)} ms sampled (idle ${summary.idleMs.toFixed(0)} ms)`,
    "",
    `top ${top} functions by self time (% of busy time):`,
  ];
  for (const f of summary.functions.slice(0, top)) {
    lines.push(
      `${f.percent.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.functionName}${f.location ? `  ${f.location}` : ""}`,
    );
  }
  lines.push("", `top ${Math.min(top, 10)} files by self time:`);
  for (const f of summary.files.slice(0, Math.min(top, 10))) {
    lines.push(`${f.percent.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.file}`);
  }
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith("--"));
  const topIndex = args.indexOf("--top");
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 15;
  if (!file || !Number.isInteger(top) || top < 1) {
    console.error("usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [--top N]");
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  console.log(formatSummary(summarizeProfile(profile, sourceMapResolver()), top));
}
