import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  DescribeInstanceInformationCommand,
  paginateDescribeInstanceInformation,
  ResumeSessionCommand,
  SSMClient,
  StartSessionCommand,
  type StartSessionCommandInput,
  TerminateSessionCommand,
} from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import {
  AGENT_VERSION,
  BOB,
  FLEET_INSTANCE_IDS,
  INSTANCE,
  KMS_KEY,
  ROLE,
  type RunningEmulator,
} from "../../packages/emulator/src/index.js";
import { clientConfig, rejectsWith, startApiEmulator } from "./api-helpers.js";

describe("SSM sessions", () => {
  let emu: RunningEmulator;
  let ssm: SSMClient;

  before(async () => {
    emu = await startApiEmulator();
    ssm = new SSMClient(clientConfig(emu));
  });
  after(async () => {
    ssm.destroy();
    await emu.close();
  });

  const start = (input: StartSessionCommandInput) => ssm.send(new StartSessionCommand(input));

  test("StartSession returns SessionId, TokenValue and a ws StreamUrl, and registers the session", async () => {
    const out = await start({ Target: INSTANCE.web });
    assert.match(out.SessionId ?? "", /^alice-[0-9a-f]{17}$/);
    assert.equal(
      out.StreamUrl,
      `ws://127.0.0.1:${emu.port}/v1/data-channel/${out.SessionId}?role=publish_subscribe`,
    );
    assert.ok((out.TokenValue ?? "").length >= 64);
    const session = emu.sessions.get(out.SessionId ?? "");
    assert.equal(session?.target, INSTANCE.web);
    assert.equal(session?.documentName, "SSM-SessionManagerRunShell");
    assert.equal(session?.sessionType, "Standard_Stream");
    assert.equal(session?.properties, null);
    assert.equal(session?.state, "Connecting");
    assert.equal(session?.createdBy, "arn:aws:iam::123456789012:user/alice");
    assert.equal(session?.kmsKeyId, undefined);
    assert.ok(emu.sessions.validateToken(out.SessionId ?? "", out.TokenValue ?? ""));
    assert.ok(!emu.sessions.validateToken(out.SessionId ?? "", "nope"));
  });

  test("documents resolve to session types and properties with defaults", async () => {
    const cases: [Omit<StartSessionCommandInput, "Target">, string, unknown][] = [
      [{ DocumentName: "AWS-StartSSHSession" }, "Port", { portNumber: "22" }],
      [
        { DocumentName: "AWS-StartPortForwardingSession", Parameters: { portNumber: ["8080"] } },
        "Port",
        { portNumber: "8080", type: "LocalPortForwarding", localPortNumber: "0" },
      ],
      [
        {
          DocumentName: "AWS-StartPortForwardingSessionToRemoteHost",
          Parameters: { host: ["db.internal"], portNumber: ["5432"], localPortNumber: ["15432"] },
        },
        "Port",
        { portNumber: "5432", type: "LocalPortForwarding", localPortNumber: "15432", host: "db.internal" },
      ],
      [
        { DocumentName: "AWS-StartInteractiveCommand", Parameters: { command: ["uptime"] } },
        "InteractiveCommands",
        {
          linux: { commands: "uptime", runAsElevated: false },
          windows: { commands: "uptime", runAsElevated: false },
          macos: { commands: "uptime", runAsElevated: false },
        },
      ],
      [
        {
          DocumentName: "AWS-StartNonInteractiveCommand",
          Parameters: { command: ["uptime"], separateOutputStream: ["true"] },
        },
        "NonInteractiveCommands",
        {
          linux: { commands: "uptime", runAsElevated: false, separateOutputStream: "true" },
          windows: { commands: "uptime", runAsElevated: false, separateOutputStream: "true" },
          macos: { commands: "uptime", runAsElevated: false, separateOutputStream: "true" },
        },
      ],
    ];
    for (const [input, type, properties] of cases) {
      const out = await start({ ...input, Target: INSTANCE.web });
      const session = emu.sessions.get(out.SessionId ?? "");
      assert.equal(session?.sessionType, type, input.DocumentName);
      assert.deepEqual(session?.properties, properties, input.DocumentName);
    }
  });

  test("KMS preferences apply to shell sessions only", async () => {
    const shell = await start({ Target: INSTANCE.kms });
    assert.equal(emu.sessions.get(shell.SessionId ?? "")?.kmsKeyId, KMS_KEY.keyId);
    const port = await start({ Target: INSTANCE.kms, DocumentName: "AWS-StartSSHSession" });
    assert.equal(emu.sessions.get(port.SessionId ?? "")?.kmsKeyId, undefined);
  });

  test("the managed instance and the old agent accept sessions", async () => {
    const mi = await start({ Target: INSTANCE.managed });
    assert.equal(emu.sessions.get(mi.SessionId ?? "")?.target, INSTANCE.managed);
    const legacy = await start({ Target: INSTANCE.legacy, DocumentName: "AWS-StartPortForwardingSession" });
    assert.equal(emu.sessions.get(legacy.SessionId ?? "")?.instance.agent?.version, AGENT_VERSION.basic);
  });

  test("TargetNotConnected for unknown, stopped and offline targets", async () => {
    for (const target of ["i-0fffffffffffffff0", INSTANCE.stopped, INSTANCE.offline, INSTANCE.workerLost]) {
      const err = await rejectsWith(start({ Target: target }), "TargetNotConnected");
      assert.equal(err.message, `${target} is not connected.`);
    }
  });

  test("InvalidDocument and InvalidParameters", async () => {
    await rejectsWith(start({ Target: INSTANCE.web, DocumentName: "AWS-RunShellScript" }), "InvalidDocument");
    const bad: Record<string, string[]>[] = [
      { portNumber: ["0"] },
      { portNumber: ["65536"] },
      { portNumber: ["http"] },
      { colour: ["red"] },
      { portNumber: ["1", "2"] },
    ];
    for (const Parameters of bad) {
      const err = await rejectsWith(
        start({ Target: INSTANCE.web, DocumentName: "AWS-StartPortForwardingSession", Parameters }),
        "InvalidParameters",
      );
      assert.match(err.message, /Parameter "/);
    }
    await rejectsWith(
      start({ Target: INSTANCE.web, DocumentName: "AWS-StartInteractiveCommand" }),
      "InvalidParameters",
    );
    await rejectsWith(
      start({
        Target: INSTANCE.web,
        DocumentName: "AWS-StartPortForwardingSessionToRemoteHost",
        Parameters: { host: ["a;b"] },
      }),
      "InvalidParameters",
    );
  });

  test("bob may not StartSession (AccessDeniedException naming the action and instance)", async () => {
    const bob = new SSMClient(clientConfig(emu, BOB));
    try {
      const err = await rejectsWith(
        bob.send(new StartSessionCommand({ Target: INSTANCE.web })),
        "AccessDeniedException",
      );
      assert.match(
        err.message,
        /user\/bob is not authorized to perform: ssm:StartSession on resource: arn:aws:ec2:us-east-1:123456789012:instance\/i-0123456789abcdef0/,
      );
      assert.equal(err.$metadata?.httpStatusCode, 400);
    } finally {
      bob.destroy();
    }
  });

  test("assumed-role sessions are named after the role session", async () => {
    const sts = new STSClient(clientConfig(emu));
    try {
      const role = await sts.send(
        new AssumeRoleCommand({ RoleArn: ROLE.admin.arn, RoleSessionName: "deploy-bot" }),
      );
      const creds = role.Credentials;
      const asRole = new SSMClient(
        clientConfig(emu, {
          accessKeyId: creds?.AccessKeyId ?? "",
          secretAccessKey: creds?.SecretAccessKey ?? "",
          sessionToken: creds?.SessionToken,
        }),
      );
      const out = await asRole.send(new StartSessionCommand({ Target: INSTANCE.web }));
      asRole.destroy();
      assert.match(out.SessionId ?? "", /^deploy-bot-[0-9a-f]{17}$/);
      assert.equal(
        emu.sessions.get(out.SessionId ?? "")?.createdBy,
        "arn:aws:sts::123456789012:assumed-role/admin/deploy-bot",
      );
    } finally {
      sts.destroy();
    }
  });

  test("ResumeSession rotates the token; TerminateSession ends the session and emits an event", async () => {
    const out = await start({ Target: INSTANCE.web });
    const id = out.SessionId ?? "";
    const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: id }));
    assert.equal(resumed.SessionId, id);
    assert.equal(resumed.StreamUrl, out.StreamUrl);
    assert.ok(resumed.TokenValue && resumed.TokenValue !== out.TokenValue);
    assert.ok(!emu.sessions.validateToken(id, out.TokenValue ?? ""), "the old token stops working");
    assert.ok(emu.sessions.validateToken(id, resumed.TokenValue ?? ""));

    const ended: string[] = [];
    const off = emu.sessions.onTerminated((s, reason) => ended.push(`${s.sessionId}:${reason}`));
    const term = await ssm.send(new TerminateSessionCommand({ SessionId: id }));
    off();
    assert.equal(term.SessionId, id);
    assert.deepEqual(ended, [`${id}:TerminateSession`]);
    assert.equal(emu.sessions.get(id)?.state, "Terminated");
    assert.ok(!emu.sessions.validateToken(id, resumed.TokenValue ?? ""));
    const after = await ssm.send(new ResumeSessionCommand({ SessionId: id }));
    assert.equal(after.TokenValue, undefined, "a terminated session cannot be resumed");
    await rejectsWith(
      ssm.send(new ResumeSessionCommand({ SessionId: "alice-00000000000000000" })),
      "DoesNotExistException",
    );
  });

  test("DescribeInstanceInformation: fields, filters and pagination", async () => {
    const one = await ssm.send(
      new DescribeInstanceInformationCommand({
        InstanceInformationFilterList: [{ key: "InstanceIds", valueSet: [INSTANCE.web] }],
      }),
    );
    assert.equal(one.InstanceInformationList?.length, 1);
    const web = one.InstanceInformationList?.[0];
    assert.equal(web?.InstanceId, INSTANCE.web);
    assert.equal(web?.PingStatus, "Online");
    assert.equal(web?.AgentVersion, AGENT_VERSION.modern);
    assert.equal(web?.PlatformType, "Linux");
    assert.equal(web?.ResourceType, "EC2Instance");
    assert.ok(web?.LastPingDateTime instanceof Date);

    const byFilter = await ssm.send(
      new DescribeInstanceInformationCommand({
        Filters: [{ Key: "InstanceIds", Values: [INSTANCE.stopped, INSTANCE.managed] }],
      }),
    );
    const status = Object.fromEntries(
      (byFilter.InstanceInformationList ?? []).map((i) => [
        i.InstanceId,
        `${i.PingStatus}/${i.ResourceType}`,
      ]),
    );
    assert.deepEqual(status, {
      [INSTANCE.stopped]: "ConnectionLost/EC2Instance",
      [INSTANCE.managed]: "Online/ManagedInstance",
    });

    const lost = await ssm.send(
      new DescribeInstanceInformationCommand({
        Filters: [{ Key: "PingStatus", Values: ["ConnectionLost"] }],
      }),
    );
    assert.deepEqual(
      (lost.InstanceInformationList ?? []).map((i) => i.InstanceId).sort(),
      [INSTANCE.stopped, INSTANCE.workerLost, INSTANCE.offline].sort(),
    );

    const pages: number[] = [];
    const seen = new Set<string>();
    for await (const p of paginateDescribeInstanceInformation(
      { client: ssm, pageSize: 5 },
      { Filters: [{ Key: "tag:fleet", Values: ["batch"] }] },
    )) {
      pages.push(p.InstanceInformationList?.length ?? 0);
      for (const i of p.InstanceInformationList ?? []) seen.add(i.InstanceId ?? "");
    }
    assert.deepEqual(pages, [5, 5, 2]);
    assert.deepEqual([...seen].sort(), [...FLEET_INSTANCE_IDS].sort());

    await rejectsWith(
      ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: "Colour", Values: ["x"] }] })),
      "InvalidFilterKey",
    );
    await rejectsWith(
      ssm.send(new DescribeInstanceInformationCommand({ MaxResults: 51 })),
      "ValidationException",
    );
    await rejectsWith(
      ssm.send(new DescribeInstanceInformationCommand({ NextToken: "bogus" })),
      "InvalidNextToken",
    );
  });
});

describe("SSM faults", () => {
  test("target-not-connected and refuse-resume", async (t) => {
    const emu = await startApiEmulator({
      faults: { targetNotConnected: [INSTANCE.web], refuseResume: true },
    });
    const ssm = new SSMClient(clientConfig(emu));
    t.after(async () => {
      ssm.destroy();
      await emu.close();
    });
    await rejectsWith(ssm.send(new StartSessionCommand({ Target: INSTANCE.web })), "TargetNotConnected");
    const out = await ssm.send(new StartSessionCommand({ Target: INSTANCE.db }));
    const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: out.SessionId }));
    assert.equal(resumed.SessionId, out.SessionId);
    assert.equal(resumed.TokenValue, undefined);
    assert.ok(
      emu.sessions.validateToken(out.SessionId ?? "", out.TokenValue ?? ""),
      "the session itself lives on",
    );
    // The flag can be flipped at run time (the gateway's reliability tests do).
    emu.sessions.refuseResume = false;
    const again = await ssm.send(new ResumeSessionCommand({ SessionId: out.SessionId }));
    assert.ok(again.TokenValue);
  });
});
