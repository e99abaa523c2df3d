import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { EC2InstanceConnectClient, SendSSHPublicKeyCommand } from "@aws-sdk/client-ec2-instance-connect";
import { GenerateDataKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { SSMClient, StartSessionCommand } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from "@aws-sdk/client-sts";
import {
  ALICE,
  INSTANCE,
  KMS_KEY,
  type RequestLogEntry,
  type RunningEmulator,
} from "../../packages/emulator/src/index.js";
import {
  clientConfig,
  ed25519PublicKey,
  rejectsWith,
  startApiEmulator,
  type TestCredentials,
} from "./api-helpers.js";

interface Case {
  name: string;
  call(emu: RunningEmulator, credentials: TestCredentials): Promise<unknown>;
  /** Expected error names: unknown key, wrong signature, expired token. */
  errors: [string, string, string];
}

/** Runs one call with a fresh client and destroys the client afterwards. */
async function using<T extends { destroy(): void }, R>(
  client: T,
  call: (client: T) => Promise<R>,
): Promise<R> {
  try {
    return await call(client);
  } finally {
    client.destroy();
  }
}

/** Every service, called through its real SDK client. */
const CASES: Case[] = [
  {
    name: "SSM (JSON 1.1)",
    call: (emu, creds) =>
      using(new SSMClient(clientConfig(emu, creds)), (c) =>
        c.send(new StartSessionCommand({ Target: INSTANCE.web })),
      ),
    errors: ["UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException"],
  },
  {
    name: "KMS (JSON 1.1)",
    call: (emu, creds) =>
      using(new KMSClient(clientConfig(emu, creds)), (c) =>
        c.send(new GenerateDataKeyCommand({ KeyId: KMS_KEY.keyId, NumberOfBytes: 32 })),
      ),
    errors: ["UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException"],
  },
  {
    name: "EC2 Instance Connect (JSON 1.1)",
    call: (emu, creds) =>
      using(new EC2InstanceConnectClient(clientConfig(emu, creds)), (c) =>
        c.send(
          new SendSSHPublicKeyCommand({
            InstanceId: INSTANCE.web,
            InstanceOSUser: "ec2-user",
            SSHPublicKey: ed25519PublicKey(),
          }),
        ),
      ),
    errors: ["UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException"],
  },
  {
    name: "STS (query)",
    call: (emu, creds) =>
      using(new STSClient(clientConfig(emu, creds)), (c) => c.send(new GetCallerIdentityCommand({}))),
    errors: ["InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken"],
  },
  {
    name: "EC2 (query)",
    call: (emu, creds) =>
      using(new EC2Client(clientConfig(emu, creds)), (c) =>
        c.send(new DescribeInstancesCommand({ MaxResults: 5 })),
      ),
    errors: ["AuthFailure", "SignatureDoesNotMatch", "RequestExpired"],
  },
];

describe("SigV4 authentication across protocols", () => {
  let emu: RunningEmulator;
  before(async () => {
    emu = await startApiEmulator();
  });
  after(async () => {
    await emu.close();
  });

  async function sessionCredentials(): Promise<TestCredentials> {
    const out = await using(new STSClient(clientConfig(emu)), (c) =>
      c.send(new GetSessionTokenCommand({ DurationSeconds: 900 })),
    );
    return {
      accessKeyId: out.Credentials?.AccessKeyId ?? "",
      secretAccessKey: out.Credentials?.SecretAccessKey ?? "",
      sessionToken: out.Credentials?.SessionToken,
    };
  }

  for (const c of CASES) {
    test(`${c.name}: valid keys and session credentials work; each failure has the service's code`, async () => {
      await c.call(emu, ALICE);
      const temp = await sessionCredentials();
      await c.call(emu, temp);
      const [unknown, badSignature, expired] = c.errors;
      await rejectsWith(c.call(emu, { accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: "x" }), unknown);
      await rejectsWith(
        c.call(emu, { ...ALICE, secretAccessKey: `${ALICE.secretAccessKey}x` }),
        badSignature,
      );
      await rejectsWith(c.call(emu, { ...temp, secretAccessKey: "wrong" }), badSignature);
      emu.clock.advance(901);
      await rejectsWith(c.call(emu, temp), expired);
    });
  }

  test("unsigned and malformed requests are refused", async () => {
    const res = await fetch(emu.endpointUrl, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AmazonSSM.StartSession" },
      body: "{}",
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get("x-amzn-errortype"), "MissingAuthenticationTokenException");
    const sts = await fetch(emu.endpointUrl, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: "AWS4-HMAC-SHA256 Credential=x",
      },
      body: "Action=GetCallerIdentity&Version=2011-06-15",
    });
    assert.equal(sts.status, 400);
    assert.match(
      await sts.text(),
      /<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>IncompleteSignature<\/Code>/,
    );
  });
});

describe("admin hooks", () => {
  let emu: RunningEmulator;
  before(async () => {
    emu = await startApiEmulator();
  });
  after(async () => {
    await emu.close();
  });

  test("GET /_emulator/requests logs calls without secrets", async () => {
    await using(new STSClient(clientConfig(emu)), (c) => c.send(new GetCallerIdentityCommand({})));
    await rejectsWith(
      using(new SSMClient(clientConfig(emu)), (c) =>
        c.send(new StartSessionCommand({ Target: INSTANCE.stopped })),
      ),
      "TargetNotConnected",
    );
    const res = await fetch(`${emu.endpointUrl}/_emulator/requests`);
    const text = await res.text();
    assert.ok(!text.includes(ALICE.secretAccessKey));
    const entries = JSON.parse(text) as RequestLogEntry[];
    assert.deepEqual(
      entries.map((e) => [e.service, e.operation, e.accessKeyId, e.principal, e.status, e.errorCode ?? null]),
      [
        ["sts", "GetCallerIdentity", ALICE.accessKeyId, ALICE.arn, 200, null],
        ["ssm", "StartSession", ALICE.accessKeyId, ALICE.arn, 400, "TargetNotConnected"],
      ],
    );
    assert.ok(entries.every((e) => !Number.isNaN(Date.parse(e.time))));
    const cleared = await fetch(`${emu.endpointUrl}/_emulator/requests`, { method: "DELETE" });
    assert.equal(cleared.status, 200);
    assert.deepEqual(emu.requestLog.entries(), []);
  });

  test("POST /_emulator/clock advances the emulator clock", async () => {
    const before = emu.clock.now();
    const res = await fetch(`${emu.endpointUrl}/_emulator/clock`, {
      method: "POST",
      body: JSON.stringify({ advanceSeconds: 7200 }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { now: string; offsetSeconds: number };
    assert.equal(body.offsetSeconds, 7200);
    assert.ok(emu.clock.now() - before >= 7_200_000);
    const bad = await fetch(`${emu.endpointUrl}/_emulator/clock`, {
      method: "POST",
      body: JSON.stringify({ advanceSeconds: -5 }),
    });
    assert.equal(bad.status, 400);
    const missing = await fetch(`${emu.endpointUrl}/_emulator/nothing`);
    assert.equal(missing.status, 404);
  });

  test("POST /_emulator/outage answers on its own connection, closes it, and cuts every other one", async () => {
    const { port } = new URL(emu.endpointUrl);
    const open = async () => {
      const socket = connect(Number(port), "127.0.0.1");
      await once(socket, "connect");
      let text = "";
      socket.on("data", (d: Buffer) => {
        text += d.toString("latin1");
      });
      const ended = new Promise<string>((resolve) => {
        socket.on("error", () => resolve("error"));
        socket.on("close", () => resolve("closed"));
      });
      return { socket, text: () => text, ended };
    };
    const bystander = await open();
    bystander.socket.write("GET /_emulator/clock HTTP/1.1\r\nhost: x\r\n\r\n");
    while (!bystander.text().includes("offsetSeconds")) await sleep(5);
    const asker = await open();
    const body = JSON.stringify({ seconds: 0.5 });
    asker.socket.write(
      `POST /_emulator/outage HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    );
    assert.equal(await asker.ended, "closed");
    assert.match(asker.text(), /^HTTP\/1\.1 200 /);
    assert.match(asker.text(), /\r\nconnection: close\r\n/i);
    assert.match(asker.text(), /\{"seconds":0\.5\}\n$/);
    await bystander.ended;
    const during = await open();
    assert.equal(await during.ended, "closed");
    assert.equal(during.text(), "", "a connection during the outage is dropped unanswered");
    await sleep(600);
    assert.equal((await fetch(`${emu.endpointUrl}/_emulator/clock`)).status, 200, "served again after it");
  });

  test("GET /_emulator/sessions lists sessions without tokens", async () => {
    const out = await using(new SSMClient(clientConfig(emu)), (c) =>
      c.send(new StartSessionCommand({ Target: INSTANCE.web })),
    );
    const text = await (await fetch(`${emu.endpointUrl}/_emulator/sessions`)).text();
    assert.ok(!text.includes(out.TokenValue ?? "-"));
    const sessions = JSON.parse(text) as { sessionId: string; state: string }[];
    assert.deepEqual(
      sessions.map((s) => [s.sessionId, s.state]),
      [[out.SessionId, "Connecting"]],
    );
  });
});
