/**
 * The built `aws-runas-emulator` program as a real process: export lines on stdout, the
 * `authorized-keys` subcommand, faults from the command line and a clean SIGTERM shutdown.
 * Uses `packages/emulator/dist/aws-runas-emulator.js`, built first when missing (`npm run build`).
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { access } from "node:fs/promises";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { EC2InstanceConnectClient, SendSSHPublicKeyCommand } from "@aws-sdk/client-ec2-instance-connect";
import { ResumeSessionCommand, SSMClient, StartSessionCommand } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { ALICE, INSTANCE, parseExports } from "../../packages/emulator/src/index.js";
import { EMULATOR } from "../e2e/helpers/harness.js";
import { ensureBuilt } from "../reliability/helpers.js";
import { ed25519PublicKey } from "./api-helpers.js";

const run = promisify(execFile);

interface Started {
  child: ChildProcess;
  env: Record<string, string>;
  stdout: string[];
  stderr: string[];
}

/** Spawns the emulator and resolves once it printed its last export line. */
async function startProcess(script: string, args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stderr?.setEncoding("utf8").on("data", (d: string) => stderr.push(d));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const ready = new Promise<void>((resolve, reject) => {
    lines.on("line", (line) => {
      stdout.push(line);
      if (line.startsWith("export RUNAS_EMULATOR_STATE_DIR=")) resolve();
    });
    child.once("exit", (code) =>
      reject(new Error(`emulator exited (${code}) before it was ready: ${stderr.join("")}`)),
    );
  });
  await ready;
  return { child, env: parseExports(stdout.join("\n")), stdout, stderr };
}

describe("aws-runas-emulator program", () => {
  const script = EMULATOR;
  const children: ChildProcess[] = [];

  before(() => ensureBuilt());
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  });

  test("prints export lines, serves the APIs, runs authorized-keys, and stops on SIGTERM", async () => {
    const emu = await startProcess(script, ["--port", "0", "--fault", "refuse-resume"]);
    children.push(emu.child);
    for (const line of emu.stdout) assert.match(line, /^export [A-Z_]+=\S+$/, "stdout has only export lines");
    const { AWS_ENDPOINT_URL: endpoint, AWS_REGION: region, RUNAS_EMULATOR_STATE_DIR: stateDir } = emu.env;
    assert.match(endpoint ?? "", /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(region, "us-east-1");
    assert.ok(emu.env.AWS_CONFIG_FILE?.startsWith(stateDir ?? "?"));
    assert.ok(emu.env.AWS_SHARED_CREDENTIALS_FILE?.startsWith(stateDir ?? "?"));
    await access(emu.env.AWS_CONFIG_FILE ?? "");

    const config = { endpoint, region, credentials: ALICE, maxAttempts: 1 };
    const sts = new STSClient(config);
    const ssm = new SSMClient(config);
    const ec2ic = new EC2InstanceConnectClient(config);
    try {
      assert.equal((await sts.send(new GetCallerIdentityCommand({}))).Arn, ALICE.arn);
      const session = await ssm.send(new StartSessionCommand({ Target: INSTANCE.web }));
      const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: session.SessionId }));
      assert.equal(resumed.TokenValue, undefined, "--fault refuse-resume reached the API");

      const key = ed25519PublicKey();
      await ec2ic.send(
        new SendSSHPublicKeyCommand({
          InstanceId: INSTANCE.web,
          InstanceOSUser: "ec2-user",
          SSHPublicKey: key,
        }),
      );
      const keys = async (user: string) =>
        (await run(process.execPath, [script, "authorized-keys", "--state-dir", stateDir ?? "", user]))
          .stdout;
      assert.equal(await keys("ec2-user"), `${key}\n`);
      assert.equal(await keys("ubuntu"), "");
      const res = await fetch(`${endpoint}/_emulator/clock`, {
        method: "POST",
        body: JSON.stringify({ advanceSeconds: 61 }),
      });
      assert.equal(res.status, 200);
      // The key file is rewritten after the advance; a request that writes it again orders after that.
      await ec2ic.send(
        new SendSSHPublicKeyCommand({ InstanceId: INSTANCE.web, InstanceOSUser: "other", SSHPublicKey: key }),
      );
      assert.equal(await keys("ec2-user"), "", "expired after 60 s of emulator time");
    } finally {
      sts.destroy();
      ssm.destroy();
      ec2ic.destroy();
    }

    emu.child.kill("SIGTERM");
    const [code] = await once(emu.child, "exit");
    assert.equal(code, 0);
    await assert.rejects(access(stateDir ?? ""), "the temp state dir is removed");
  });

  test("bad options exit 2 with a one-line message and nothing on stdout", async () => {
    const result = await run(process.execPath, [script, "--fault", "explode"]).then(
      () => assert.fail("should have failed"),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^aws-runas-emulator: unknown fault "explode"\nhint: /);
  });
});
