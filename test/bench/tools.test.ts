import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { officialToolsMissing, onPath } from "../../bench/lib/tools.js";

describe("bench tool discovery", () => {
  test("the official tools count as installed only when both are on PATH", async (t) => {
    const withPlugin = await mkdtemp(join(tmpdir(), "bench-path-"));
    const withAws = await mkdtemp(join(tmpdir(), "bench-path-"));
    t.after(() => Promise.all([withPlugin, withAws].map((d) => rm(d, { recursive: true, force: true }))));
    for (const [dir, name] of [
      [withPlugin, "session-manager-plugin"],
      [withAws, "aws"],
    ] as const) {
      await writeFile(join(dir, name), "#!/bin/sh\n");
      await chmod(join(dir, name), 0o755);
    }
    assert.equal(onPath("aws", withAws), true);
    assert.equal(onPath("aws", withPlugin), false);
    assert.equal(officialToolsMissing(""), "not installed");
    assert.equal(officialToolsMissing(withAws), "not installed");
    assert.equal(officialToolsMissing(withPlugin), "not installed (no aws CLI to start it)");
    assert.equal(officialToolsMissing(`${withPlugin}:${withAws}`), undefined);
  });
});
