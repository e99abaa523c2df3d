import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { type EmulatorProcess, REPO_ROOT, startEmulatorProcess } from "../e2e/helpers/harness.js";

const run = promisify(execFile);

/**
 * What a user installs: `scripts/pack-client.mjs` packs the client alone, `npm install -g` puts it
 * into a fresh prefix with the registry out of reach (`--offline`, an empty cache), and the
 * installed binary (not the checkout's dist/) runs a real session against the emulator.
 */
describe("the installable client package", () => {
  let work: string;
  let prefix: string;
  let tarball: string;
  let bin: string;
  let emulator: EmulatorProcess;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "aws-runas-pack-test-"));
    prefix = join(work, "prefix");
    const { stdout } = await run(process.execPath, ["scripts/pack-client.mjs", "--out", join(work, "out")], {
      cwd: REPO_ROOT,
    });
    tarball = stdout.trim();
    await run(
      "npm",
      ["install", "-g", "--offline", "--no-audit", "--no-fund", "--prefix", prefix, tarball],
      // An empty cache of its own: the install cannot be satisfied from earlier downloads.
      { cwd: work, env: { ...process.env, npm_config_cache: join(work, "cache") } },
    );
    bin = join(prefix, "bin", "aws-runas");
    emulator = await startEmulatorProcess();
  });

  after(async () => {
    await emulator?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test("the tarball is named by the version and holds the built client only", async () => {
    const { version } = (await import("../../packages/aws-runas/package.json", { with: { type: "json" } }))
      .default;
    assert.equal(tarball.endsWith(`aws-runas-${version}.tgz`), true, tarball);
    const { stdout } = await run("tar", ["tzf", tarball]);
    const files = stdout.trim().split("\n");
    const top = new Set(files.map((f) => f.replace(/^package\//, "").split("/")[0]));
    assert.deepEqual([...top].sort(), ["LICENSE", "README.md", "bin", "dist", "package.json"]);
    for (const f of files) {
      assert.doesNotMatch(f, /(^|\/)(src|test|node_modules)\/|emulator|\.ts$|\.map$/, f);
    }
    const { stdout: manifest } = await run("tar", ["xzOf", tarball, "package/package.json"]);
    const pkg = JSON.parse(manifest);
    assert.equal(pkg.name, "aws-runas");
    assert.deepEqual(pkg.bin, { "aws-runas": "bin/aws-runas.cjs" });
    assert.equal(pkg.engines.node, ">=20");
    assert.equal(pkg.dependencies, undefined);
  });

  test("npm ls in the prefix shows aws-runas and no node-pty", async () => {
    const { stdout } = await run("npm", ["ls", "-g", "--all", "--json", "--prefix", prefix]);
    const tree = JSON.parse(stdout);
    assert.deepEqual(Object.keys(tree.dependencies), ["aws-runas"]);
    assert.doesNotMatch(stdout, /node-pty/);
    const installed = join(prefix, "lib", "node_modules", "aws-runas");
    assert.deepEqual(readdirSync(installed).includes("node_modules"), false);
  });

  test("--version and --help come from the installed binary", async () => {
    const { version } = (await import("../../packages/aws-runas/package.json", { with: { type: "json" } }))
      .default;
    const v = await run(bin, ["--version"], { cwd: work });
    assert.equal(v.stdout, `${version}\n`);
    const h = await run(bin, ["--help"], { cwd: work });
    assert.match(h.stdout, /^NAME:\n {3}aws-runas - /);
    assert.match(h.stdout, /ssm/);
  });

  test("a real ssm shell session runs through the installed binary", async () => {
    const session = run(
      bin,
      ["ssm", "shell", "plain", INSTANCE.web, "--", "printf 'installed:%s' $((6*7)); cat"],
      { cwd: work, env: emulator.env, timeout: 30_000 },
    );
    // Local stdin goes to the remote command; its end ends the remote `cat`.
    session.child.stdin!.end("from-stdin");
    const { stdout, stderr } = await session;
    assert.equal(stdout, "installed:42from-stdin", stderr);
  });
});

describe("the emulator package", () => {
  test("packs separately and is the one that carries node-pty", async () => {
    const work = mkdtempSync(join(tmpdir(), "aws-runas-pack-emulator-"));
    try {
      const { stdout } = await run(
        process.execPath,
        ["scripts/pack-client.mjs", "--emulator-only", "--out", work],
        { cwd: REPO_ROOT },
      );
      const tarball = stdout.trim();
      assert.match(tarball, /aws-runas-emulator-\d+\.\d+\.\d+\.tgz$/);
      const { stdout: manifest } = await run("tar", ["xzOf", tarball, "package/package.json"]);
      const pkg = JSON.parse(manifest);
      assert.equal(pkg.name, "aws-runas-emulator");
      assert.deepEqual(pkg.bin, { "aws-runas-emulator": "bin/aws-runas-emulator.js" });
      assert.deepEqual(Object.keys(pkg.dependencies), ["node-pty"]);
      const { stdout: list } = await run("tar", ["tzf", tarball]);
      for (const f of list.trim().split("\n")) assert.doesNotMatch(f, /(^|\/)(src|test)\/|\.ts$/, f);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
