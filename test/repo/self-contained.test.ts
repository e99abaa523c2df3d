/**
 * The repository alone must pass: anyone who clones it gets no `shared/` directory beside it, so
 * no source, script or test may reach one (the seed's help texts and the target-spec vectors are
 * the project's own copies under test/fixtures/). A static scan of every code and JSON file.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { ROOT } from "../cli/helpers.js";

const SKIP_DIRS = new Set(["node_modules", "dist", ".git", ".tmp"]);
const CODE = /\.(ts|mts|cts|mjs|cjs|js|json)$/;

/**
 * References that climb out of the repository into a sibling `shared/` directory: a quoted
 * relative path made of `..` steps then `shared/`, or the same as path segments given to join().
 * The patterns are spelt with escapes so that this file does not match itself.
 */
const OUTSIDE = [
  /['"`/]\.\.\/(\.\.\/)*shared\//,
  /['"`]\.\.['"`]\s*,\s*(['"`]\.\.['"`]\s*,\s*)*['"`]shared['"`]/,
];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP_DIRS.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...files(path));
    else if (CODE.test(entry.name)) out.push(path);
  }
  return out;
}

/** `file:line: text` for each reference to a `shared/` outside the repository. */
export function outsideReferences(text: string, file: string): string[] {
  return text
    .split("\n")
    .flatMap((line, i) => (OUTSIDE.some((re) => re.test(line)) ? [`${file}:${i + 1}: ${line.trim()}`] : []));
}

describe("the repository is self-contained", () => {
  test("the scan recognises the ways a path reaches ../shared", () => {
    const dots = "..";
    for (const line of [
      `readFileSync(new URL("${dots}/${dots}/${dots}/shared/seed/ssm.md", import.meta.url))`,
      `const p = '${dots}/shared/vectors/target-spec.json';`,
      `\`\${ROOT}/${dots}/shared/x.json\``,
      `join(ROOT, "${dots}", "shared", "seed", "ssm.md")`,
    ])
      assert.equal(outsideReferences(line, "f").length, 1, line);
    for (const line of [
      `new URL("../fixtures/seed-ssm.md", import.meta.url)`,
      `"shared/"`,
      "a shared helper",
    ])
      assert.deepEqual(outsideReferences(line, "f"), [], line);
  });

  test("no code, script, test or JSON file reads a shared/ directory outside the repository", () => {
    const found = files(ROOT).flatMap((file) =>
      outsideReferences(readFileSync(file, "utf8"), relative(ROOT, file)),
    );
    assert.deepEqual(found, [], "use the project's own copy under test/fixtures/");
  });

  test("the project's copies of the seed and the vectors are there", () => {
    assert.match(readFileSync(join(ROOT, "test/fixtures/seed-ssm.md"), "utf8"), /#### SSH subcommand help/);
    const vectors = JSON.parse(readFileSync(join(ROOT, "test/fixtures/target-spec.json"), "utf8"));
    assert.ok(Array.isArray(vectors.ssh) && Array.isArray(vectors.forward));
  });
});
