// `--help` and `--version` must not load the AWS SDK or any session code. A loader hook records
// every module the built CLI loads; each loaded dist file's source map says which sources it
// holds, and none may come from the SDK, node-pty or the session layers.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { cleanEnv, ensureCliBuilt, ROOT, runBuiltCli } from "./helpers.js";

const DIST = join(ROOT, "packages/aws-runas/dist");
const FORBIDDEN =
  /node_modules\/(@aws-sdk|@smithy|node-pty|ws)\/|src\/(session|datachannel|mux|credentials|aws|protocol)\//;

let dir = "";
let registerUrl = "";

before(() => {
  ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), "runas-loads-"));
  writeFileSync(
    join(dir, "hooks.mjs"),
    `import { appendFileSync } from "node:fs";
let log;
export function initialize(data) { log = data.log; }
export async function load(url, context, next) {
  appendFileSync(log, url + "\\n");
  return next(url, context);
}
`,
  );
  writeFileSync(
    join(dir, "register.mjs"),
    `import { register } from "node:module";
register(new URL("./hooks.mjs", import.meta.url), { data: { log: process.env.RUNAS_LOAD_LOG } });
`,
  );
  registerUrl = pathToFileURL(join(dir, "register.mjs")).href;
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the built CLI and returns the dist files it loaded plus every other module URL. */
async function loadsOf(args: string[], name: string): Promise<{ dist: string[]; other: string[] }> {
  const log = join(dir, `${name}.log`);
  const result = await runBuiltCli(args, {
    nodeArgs: ["--import", registerUrl],
    env: cleanEnv({ RUNAS_LOAD_LOG: log }),
  });
  assert.ok(result.code === 0, result.stderr);
  const urls = readFileSync(log, "utf8").split("\n").filter(Boolean);
  const files = urls.filter((u) => u.startsWith("file:")).map((u) => fileURLToPath(u));
  return {
    dist: files.filter((f) => f.startsWith(DIST)),
    other: urls.filter(
      (u) => !u.startsWith("node:") && !(u.startsWith("file:") && fileURLToPath(u).startsWith(DIST)),
    ),
  };
}

/** Sources a bundled file was built from, per its source map. */
function sourcesOf(file: string): string[] {
  const map = `${file}.map`;
  assert.ok(existsSync(map), `${map} missing (build with sourcemap)`);
  return (JSON.parse(readFileSync(map, "utf8")).sources as string[]).map((s) => s.replace(/\\/g, "/"));
}

describe("start-up loads only the CLI shell", () => {
  test("the bundle does contain SDK code somewhere (so the check below is not vacuous)", () => {
    const chunks = readdirSync(join(DIST, "chunks")).filter((f) => f.endsWith(".js"));
    const withSdk = chunks.filter((c) => sourcesOf(join(DIST, "chunks", c)).some((s) => FORBIDDEN.test(s)));
    assert.ok(withSdk.length > 0, "no chunk holds SDK or session code");
  });

  for (const args of [["--help"], ["--version"], ["ssm", "shell", "--help"], ["ssm"]]) {
    test(`aws-runas ${args.join(" ")}`, async () => {
      const loads = await loadsOf(args, args.join("_"));
      assert.deepEqual(loads.other, [], "nothing loaded from outside dist/");
      assert.ok(loads.dist.includes(join(DIST, "aws-runas.js")));
      for (const file of loads.dist) {
        const bad = sourcesOf(file).filter((s) => FORBIDDEN.test(s));
        assert.deepEqual(bad, [], `${file} pulls in heavy code`);
      }
    });
  }

  test("control: a command that needs more does load its chunk lazily", async () => {
    const loads = await loadsOf(["completion", "bash"], "completion");
    const sources = loads.dist.flatMap(sourcesOf);
    assert.ok(
      sources.some((s) => s.endsWith("src/cli/completion.ts")),
      "the completion chunk is loaded and recognised",
    );
    const help = await loadsOf(["--help"], "help-again");
    assert.ok(
      !help.dist.flatMap(sourcesOf).some((s) => s.endsWith("src/cli/completion.ts")),
      "but not by --help",
    );
  });
});
