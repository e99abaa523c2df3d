// The instance picker's keys, state and drawing (src/picker/model.ts), pure.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ManagedInstance } from "../../packages/aws-runas/src/instances/types.js";
import {
  initialState,
  parseKeys,
  renderPicker,
  step,
  visible,
} from "../../packages/aws-runas/src/picker/model.js";

const mk = (instanceId: string, name: string, pingStatus = "Online"): ManagedInstance => ({
  instanceId,
  name,
  privateIp: "10.0.0.1",
  platform: "Linux",
  agentVersion: "3.3.40.0",
  pingStatus,
  state: "running",
  tags: { Name: name },
});
const ALL = [mk("i-1", "web"), mk("i-2", "worker"), mk("i-3", "db"), mk("i-4", "worker", "ConnectionLost")];

test("keys: text, arrows in both cursor modes, Ctrl-P/N, Enter, Backspace, Ctrl-U, Esc, Ctrl-C", () => {
  assert.deepEqual(parseKeys("wo\x1b[B\x1bOA\x10\x0e\r\x7f\x15\x03"), [
    { kind: "text", text: "wo" },
    { kind: "down" },
    { kind: "up" },
    { kind: "up" },
    { kind: "down" },
    { kind: "enter" },
    { kind: "backspace" },
    { kind: "clear" },
    { kind: "cancel" },
  ]);
  assert.deepEqual(parseKeys("\x1b"), [{ kind: "cancel" }]);
  assert.deepEqual(parseKeys("\x1b[3~x"), [{ kind: "text", text: "x" }], "other keys are ignored");
});

test("typing filters (every word, any field), arrows move within the matches, Enter chooses", () => {
  let state = initialState(ALL);
  const press = (data: string) => {
    for (const key of parseKeys(data)) {
      const next = step(state, key);
      if (next.kind !== "state") return next;
      state = next.state;
    }
    return undefined;
  };
  press("work");
  assert.deepEqual(
    visible(state).map((i) => i.instanceId),
    ["i-2", "i-4"],
  );
  press("\x1b[B\x1b[B\x1b[B");
  assert.equal(state.selected, 1, "stops at the last match");
  press("\x1b[A");
  const chosen = press("\r");
  assert.deepEqual(chosen?.kind === "chosen" && chosen.instance.instanceId, "i-2");
  press("\x15zzz");
  assert.equal(visible(state).length, 0);
  assert.equal(press("\r"), undefined, "Enter with no match keeps the picker open");
  assert.equal(press("\x1b")?.kind, "cancelled");
});

test("drawing: a prompt with the counts, the selection marked, no line wider than the terminal", () => {
  const lines = renderPicker(initialState(ALL), 40, 10);
  assert.match(lines[0]!, /^Instance/);
  assert.ok(lines[1]!.includes("> i-1"));
  for (const line of lines) assert.ok([...line.replace(/\x1b\[[0-9;]*m/g, "")].length <= 40, line);
  assert.equal(renderPicker(initialState(ALL), 80, 4).length, 3, "at most rows - 2 instances");
});
