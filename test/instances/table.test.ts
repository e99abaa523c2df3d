// Ordering, filters and the 80-column table of instance lists (src/instances/table.ts), pure.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  globToRegExp,
  matchesFilters,
  parseInstanceFilter,
  renderInstanceTable,
  sortInstances,
} from "../../packages/aws-runas/src/instances/table.js";
import type { ManagedInstance } from "../../packages/aws-runas/src/instances/types.js";

const instance = (over: Partial<ManagedInstance>): ManagedInstance => ({
  instanceId: "i-0123456789abcdef0",
  name: "web",
  privateIp: "10.0.0.10",
  platform: "Linux",
  agentVersion: "3.3.40.0",
  pingStatus: "Online",
  state: "running",
  tags: { Name: "web" },
  ...over,
});

test("online first, then names in natural order, then ids", () => {
  const sorted = sortInstances([
    instance({ instanceId: "i-3", name: "worker", pingStatus: "ConnectionLost" }),
    instance({ instanceId: "i-2", name: "batch-10" }),
    instance({ instanceId: "i-1", name: "batch-2" }),
    instance({ instanceId: "i-0", name: "Worker" }),
  ]);
  assert.deepEqual(
    sorted.map((i) => i.instanceId),
    ["i-1", "i-2", "i-0", "i-3"],
  );
});

test("filters: key=value and key:value, EC2 wildcards, all must match", () => {
  const web = instance({ tags: { Name: "web", env: "prod" } });
  assert.ok(matchesFilters(web, [parseInstanceFilter("Name=w*")]));
  assert.ok(matchesFilters(web, [parseInstanceFilter("env:pro?"), parseInstanceFilter("Name=web")]));
  assert.ok(!matchesFilters(web, [parseInstanceFilter("env=staging")]));
  assert.ok(!matchesFilters(web, [parseInstanceFilter("team=*")]), "a missing tag never matches");
  assert.ok(globToRegExp("a.b(c)*").test("a.b(c)xyz"));
  assert.ok(!globToRegExp("a.b").test("axb"));
  assert.throws(() => parseInstanceFilter("novalue"), /invalid --filter/);
});

test("the table never exceeds the width, whatever the names", () => {
  fc.assert(
    fc.property(fc.array(fc.string({ maxLength: 90 }), { minLength: 1, maxLength: 8 }), (names) => {
      const text = renderInstanceTable(
        names.map((name, i) =>
          instance({ instanceId: `mi-0123456789abcdef${i}`, name: name.replace(/\s/g, "x") }),
        ),
      );
      for (const line of text.trimEnd().split("\n")) assert.ok([...line].length <= 80, line);
    }),
  );
});
