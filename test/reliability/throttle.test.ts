/**
 * Issue #11: StartSession keeps answering ThrottlingException — the CLI retries with back-off
 * (the SDK's standard retry strategy), then gives up with a one-line message and a non-zero exit;
 * it does not loop for ever. SSM is a tiny local HTTP server that counts attempts (the emulator
 * has no throttling fault); credentials still come from the built emulator.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { type EmulatorProcess, runCli, startEmulatorProcess } from "../e2e/helpers/harness.js";
import { assertNoChildProcesses, ensureBuilt } from "./helpers.js";

/** Every process these tests start is gone once the suites closed them. */
after(assertNoChildProcesses);

describe("StartSession throttled on every attempt", () => {
  let emulator: EmulatorProcess;
  before(async () => {
    ensureBuilt();
    emulator = await startEmulatorProcess();
  });
  after(() => emulator?.close());

  for (const command of [
    ["ssm", "shell", "plain", INSTANCE.web],
    ["ssm", "forward", "plain", `${INSTANCE.web}:8080`],
    ["ssm", "ssh", "plain", `ec2-user@${INSTANCE.web}`],
  ]) {
    test(`${command.slice(0, 2).join(" ")}: retried with back-off, then one clear line`, async (t) => {
      const attempts: Array<{ target: string; at: number }> = [];
      const server = createServer((req, res) => {
        req.resume();
        req.on("end", () => {
          attempts.push({ target: String(req.headers["x-amz-target"] ?? ""), at: performance.now() });
          res.writeHead(400, { "content-type": "application/x-amz-json-1.1" });
          res.end(JSON.stringify({ __type: "ThrottlingException", message: "Rate exceeded" }));
        });
      });
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const { port } = server.address() as { port: number };

      const r = await runCli(command, {
        env: { ...emulator.env, AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${port}` },
        input: "",
        timeoutMs: 60_000,
      });
      const starts = attempts.filter((a) => a.target === "AmazonSSM.StartSession");
      assert.equal(
        starts.length,
        attempts.length,
        `only StartSession reached SSM: ${JSON.stringify(attempts)}`,
      );
      assert.ok(starts.length >= 2, `StartSession was retried (${starts.length} attempts)`);
      assert.ok(starts.length <= 10, `the retries are bounded (${starts.length} attempts)`);
      assert.notEqual(r.code, 0);
      assert.equal(r.signal, null, "the CLI ended by itself");
      assert.equal(r.stdout, "");
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      assert.ok(lines.length >= 1 && lines.length <= 2, `one line and an optional hint:\n${r.stderr}`);
      assert.match(lines[0]!, /^aws-runas: .*(throttl|rate exceeded)/i);
      if (lines[1]) assert.match(lines[1], /^hint: \S/);
      const gaps = starts.slice(1).map((a, i) => Math.round(a.at - starts[i]!.at));
      t.diagnostic(`${starts.length} attempts, gaps ${gaps.join(", ")} ms: ${lines.join(" | ")}`);
    });
  }
});
