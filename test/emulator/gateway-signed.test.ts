/**
 * Signed data-channel upgrades (ssm-protocol.md §3.1, issue 15 item 1): the gateway checks a
 * SigV4 signature when one is present exactly as its APIs do (unknown key, wrong secret, expired
 * token, wrong scope → HTTP 403 on the upgrade), and with `requireSignedChannel` refuses unsigned
 * upgrades. Real websockets against the in-process emulator.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GetSessionTokenCommand, STSClient } from "@aws-sdk/client-sts";
import WebSocket from "ws";
import { isPresignedUrl, signUpgrade } from "../../packages/aws-runas/src/datachannel/sign.js";
import { ALICE, INSTANCE } from "../../packages/emulator/src/index.js";
import { clientConfig } from "./api-helpers.js";
import { startTestEmulator } from "./helpers/emulator.js";

type Outcome = { opened: true } | { opened: false; status: number; body: string };

/** Dials `url` with `headers`; resolves with the upgrade's outcome. */
function dial(url: string, headers: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once("open", () => {
      ws.terminate();
      resolve({ opened: true });
    });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => {
        ws.terminate();
        resolve({ opened: false, status: res.statusCode ?? 0, body });
      });
    });
    ws.once("error", reject);
  });
}

const sign = (
  url: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  region = "us-east-1",
) => signUpgrade({ url, region, credentials, date: new Date() });

describe("gateway: signed data-channel upgrades", () => {
  test("presigned StreamUrls are recognised by any X-Amz-* query parameter", () => {
    assert.equal(isPresignedUrl("wss://h/v1/data-channel/s?role=publish_subscribe"), false);
    for (const p of [
      "X-Amz-Algorithm",
      "x-amz-credential",
      "X-Amz-Date",
      "X-Amz-Expires",
      "X-Amz-SignedHeaders",
      "X-Amz-Signature",
      "X-Amz-Security-Token",
    ])
      assert.equal(isPresignedUrl(`wss://h/v1/data-channel/s?role=publish_subscribe&${p}=x`), true, p);
  });

  test("requireSignedChannel: a correct signature opens, anything else gets HTTP 403", async (t) => {
    const env = await startTestEmulator(t, { requireSignedChannel: true });
    const url = env.urlOf(env.startSession(INSTANCE.web));

    assert.deepEqual(await dial(url, await sign(url, ALICE)), { opened: true });

    const unsigned = await dial(url);
    assert.equal(unsigned.opened, false);
    assert.equal((unsigned as { status: number }).status, 403);
    assert.match((unsigned as { body: string }).body, /not signed/);

    const cases: Array<[string, Record<string, string>, RegExp]> = [
      [
        "wrong secret",
        await sign(url, { ...ALICE, secretAccessKey: `${ALICE.secretAccessKey}x` }),
        /SignatureDoesNotMatch|InvalidSignature/,
      ],
      [
        "unknown key",
        await sign(url, { accessKeyId: "AKIANOSUCHKEY0000000", secretAccessKey: "x" }),
        /UnrecognizedClient/,
      ],
      ["wrong region", await sign(url, ALICE, "eu-west-1"), /region/],
    ];
    // A signature made for another URL (another session) does not fit this one.
    const other = env.urlOf(env.startSession(INSTANCE.web));
    cases.push(["signed for another session", await sign(other, ALICE), /Signature/]);
    for (const [name, headers, why] of cases) {
      const out = await dial(url, headers);
      assert.equal(out.opened, false, name);
      assert.equal((out as { status: number }).status, 403, name);
      assert.match((out as { body: string }).body, why, name);
    }
  });

  test("an expired session token is refused with 403; unsigned upgrades pass when not required", async (t) => {
    const env = await startTestEmulator(t);
    const url = env.urlOf(env.startSession(INSTANCE.web));
    const sts = new STSClient(clientConfig(env.emulator));
    t.after(() => sts.destroy());
    const out = await sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    const temporary = {
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
    };
    assert.deepEqual(await dial(url, await sign(url, temporary)), { opened: true });
    assert.deepEqual(await dial(url), { opened: true }, "signing is optional by default");
    env.emulator.clock.advance(901);
    const expired = await dial(
      url,
      await signUpgrade({
        url,
        region: "us-east-1",
        credentials: temporary,
        date: new Date(env.emulator.clock.now()),
      }),
    );
    assert.equal(expired.opened, false);
    assert.equal((expired as { status: number }).status, 403);
    assert.match((expired as { body: string }).body, /ExpiredToken/);
  });
});
