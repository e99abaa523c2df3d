/**
 * `npm install -g .` from a fresh clone runs the package's `prepare` script without the
 * devDependencies. Run that script, as package.json spells it, in a copy of the checkout with no
 * node_modules: it must fail with one line saying to run `npm ci` first (not a module-not-found
 * stack trace), and succeed, keeping dist/, when dist/ was already built.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ROOT } from "../cli/helpers.js";

const prepare: string = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts.prepare;

/** A checkout copy without node_modules (so esbuild cannot be found), removed afterwards. */
function freshClone(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "runas-clone-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(ROOT, "scripts"), join(dir, "scripts"), { recursive: true });
  cpSync(join(ROOT, "package.json"), join(dir, "package.json"));
  return dir;
}

const run = (cwd: string) => spawnSync("sh", ["-c", prepare], { cwd, encoding: "utf8" });

describe("prepare without devDependencies (npm install -g . before npm ci)", () => {
  test("no dist/: exit 1 with the command to run, no stack trace", (t) => {
    const dir = freshClone(t);
    const r = run(dir);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(
      r.stderr,
      "aws-runas: cannot build dist/: the devDependencies are not installed\n" +
        "hint: run `npm ci` in the checkout first, then `npm install -g .`\n",
    );
    assert.equal(r.stdout, "");
  });

  test("dist/ already built: kept, exit 0 with a note", (t) => {
    const dir = freshClone(t);
    const built = ["packages/aws-runas/dist/aws-runas.js", "packages/emulator/dist/aws-runas-emulator.js"];
    for (const file of built) {
      mkdirSync(join(dir, file, ".."), { recursive: true });
      writeFileSync(join(dir, file), "// built\n");
    }
    const r = run(dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /esbuild is not installed; keeping the existing dist\//);
    assert.equal(readFileSync(join(dir, built[0]!), "utf8"), "// built\n");
  });
});
