/**
 * finishProcess (cli/exit.ts): once the command has returned, the process ends with its code
 * even when a leaked handle would make Node's teardown spin forever, and other "exit" listeners
 * still run first.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const FIXTURE = fileURLToPath(new URL("../fixtures/leaky-exit.ts", import.meta.url));

/** Runs the fixture; a process still running after `limitMs` is killed and reported as hung. */
function run(
  args: string[],
  limitMs: number,
): Promise<{ code: number | null; hung: boolean; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    child.kill("SIGKILL");
  }, limitMs);
  return new Promise((resolve) => {
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, hung, stderr });
    });
  });
}

test("finishProcess ends the process with its code despite a leaked handle", async () => {
  const outcome = await run(["7"], 30_000);
  assert.equal(outcome.hung, false, "the process hung at exit");
  assert.equal(outcome.code, 7);
  assert.match(outcome.stderr, /another exit listener ran/);
});

test("without it, the same leak hangs this Node at exit (why finishProcess leaves at once)", async (t) => {
  const outcome = await run([], 3_000);
  // Diagnostic only: a Node that fixes the leak exits here, and the guard is then just unused.
  t.diagnostic(
    outcome.hung ? "Node's teardown hung on the leaked handle" : "this Node exits despite the leak",
  );
  assert.match(outcome.stderr, /another exit listener ran/);
});
