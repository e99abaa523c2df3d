/**
 * The import graph of the workspace packages, read from the sources (no compiler): every relative
 * specifier of `import`, `export … from`, `import type` and `import()`, and every import of a
 * workspace package by name (`@aws-runas/wire/…`), resolved to a file path relative to the
 * repository root. Type-only imports count: they still tie one module's design to another's.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

export type ImportGraph = Map<string, string[]>;

const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^"';]*?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && (entry.name === "node_modules" || entry.name === "dist")) continue;
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** Strips comments so that import-looking text in docs does not count. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

/** Workspace package name → its folder, from `packages/<folder>/package.json`. */
function workspacePackages(): Map<string, string> {
  const names = new Map<string, string>();
  for (const entry of readdirSync("packages", { withFileTypes: true })) {
    const manifest = join("packages", entry.name, "package.json");
    if (entry.isDirectory() && existsSync(manifest))
      names.set(JSON.parse(readFileSync(manifest, "utf8")).name, join("packages", entry.name));
  }
  return names;
}

/** `@aws-runas/wire/protocol/message.js` → `packages/wire/src/protocol/message.ts` (the exports map). */
function resolveWorkspaceImport(specifier: string, packages: Map<string, string>): string | undefined {
  for (const [name, dir] of packages) {
    if (!specifier.startsWith(`${name}/`)) continue;
    const file = join(dir, "src", specifier.slice(name.length + 1).replace(/\.js$/, ".ts"));
    if (existsSync(file)) return file;
    throw new Error(`cannot resolve import ${JSON.stringify(specifier)}`);
  }
  return undefined;
}

function resolveSpecifier(
  from: string,
  specifier: string,
  packages: Map<string, string>,
): string | undefined {
  if (!specifier.startsWith(".")) return resolveWorkspaceImport(specifier, packages); // else npm and node: built-ins
  const base = normalize(join(dirname(from), specifier));
  for (const candidate of [base.replace(/\.js$/, ".ts"), `${base}.ts`, join(base, "index.ts")]) {
    if (existsSync(candidate)) return candidate;
  }
  if (existsSync(base) && !base.endsWith(".js")) return base; // data files (package.json)
  throw new Error(`${from}: cannot resolve import ${JSON.stringify(specifier)}`);
}

/** What {@link readImportGraph} finds: every import, and the relative ones among them. */
export interface ImportScan {
  graph: ImportGraph;
  /** The edges written as relative paths (`../x.js`), a subgraph of `graph`. */
  relativeEdges: ImportGraph;
}

/** Reads every `.ts` file under `root` (e.g. "packages"); paths are relative to the working directory. */
export function readImportGraph(root: string): ImportScan {
  const packages = workspacePackages();
  const graph: ImportGraph = new Map();
  const relativeEdges: ImportGraph = new Map();
  for (const file of sourceFiles(root).sort()) {
    const text = withoutComments(readFileSync(file, "utf8"));
    const targets = new Set<string>();
    const relativeTargets = new Set<string>();
    for (const match of text.matchAll(SPECIFIER)) {
      const specifier = match[1] ?? match[2]!;
      const target = resolveSpecifier(file, specifier, packages);
      if (!target) continue;
      targets.add(relative(".", target));
      if (specifier.startsWith(".")) relativeTargets.add(relative(".", target));
    }
    graph.set(relative(".", file), [...targets].sort());
    relativeEdges.set(relative(".", file), [...relativeTargets].sort());
  }
  return { graph, relativeEdges };
}

/** Every import cycle, each as the list of files around it (Tarjan's strongly connected components). */
export function findCycles(graph: ImportGraph): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string) => {
    indices.set(node, index);
    low.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indices.get(next)!));
      }
    }
    if (low.get(node) !== indices.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    const selfLoop = (graph.get(node) ?? []).includes(node);
    if (component.length > 1 || selfLoop) cycles.push(component.sort());
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return cycles;
}

/**
 * Imports from files under `inside` to files outside it that `allowed` refuses, as
 * `importer -> imported` lines; the allowed files' own imports are followed, so a permitted
 * module cannot smuggle in a forbidden one.
 */
export function boundaryViolations(
  graph: ImportGraph,
  inside: string,
  allowed: (file: string) => boolean,
): string[] {
  const violations: string[] = [];
  const seen = new Set<string>();
  const queue: string[] = [...graph.keys()].filter((f) => f.startsWith(inside));
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const target of graph.get(file) ?? []) {
      if (target.startsWith(inside)) continue;
      if (!allowed(target)) violations.push(`${file} -> ${target}`);
      else queue.push(target);
    }
  }
  return violations;
}
