/**
 * Our SSM client (packages/aws-runas/src/aws/ssm-client.ts) over real HTTP on 127.0.0.1: the
 * request it sends, how answers and failures come out (the one classification of errors.ts),
 * its retries, credentials renewal, proxy settings and signing clock — against a recording
 * server, and against the emulator, which verifies every signature.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { AwsError } from "@aws-runas/wire/errors.js";
import { createLogger, silentLogger } from "@aws-runas/wire/log.js";
import { createClient } from "../../packages/aws-runas/src/aws/clients.js";
import { awsEndpoint } from "../../packages/aws-runas/src/aws/endpoint.js";
import { ServerClock } from "../../packages/aws-runas/src/aws/server-clock.js";
import { createSsmClient, type SsmClientOptions } from "../../packages/aws-runas/src/aws/ssm-client.js";
import type { Clock, Entropy } from "../../packages/aws-runas/src/datachannel/clock.js";
import { parseAuthorization, signatureMatches } from "../../packages/emulator/src/api/sigv4.js";
import { ALICE, INSTANCE, type RunningEmulator, startEmulator } from "../../packages/emulator/src/index.js";
import {
  type FakeAwsServer,
  type FakeResponse,
  type RecordedRequest,
  startFakeAws,
} from "./fake-aws-server.js";

const creds = { accessKeyId: "AKIAFAKE", secretAccessKey: "fake-secret-key-value", sessionToken: "tok" };

/** Waits recorded and run at once; the jitter is whatever the test says. */
function instantWaits(random = 0.5): { clock: Clock; entropy: Entropy; waits: number[] } {
  const waits: number[] = [];
  const clock: Clock = {
    now: () => performance.now(),
    wallNow: () => Date.now(),
    every: () => ({ cancel: () => {} }),
    after(ms, fn) {
      waits.push(ms);
      const t = setImmediate(fn);
      return { cancel: () => clearImmediate(t) };
    },
  };
  return { clock, entropy: { uuid: () => "u", bytes: (n) => Buffer.alloc(n), random: () => random }, waits };
}

let answer: (req: RecordedRequest) => FakeResponse = () => ({ body: "{}" });
let server: FakeAwsServer;
before(async () => {
  server = await startFakeAws((req) => answer(req));
});
after(() => server.close());

function json(body: unknown, status = 200, headers: Record<string, string> = {}): FakeResponse {
  return { status, contentType: "application/x-amz-json-1.1", headers, body: JSON.stringify(body) };
}

async function client(options: Partial<SsmClientOptions> = {}) {
  return createSsmClient({
    region: "eu-west-1",
    credentials: creds,
    logger: silentLogger,
    env: { AWS_ENDPOINT_URL_SSM: server.url },
    serverClock: new ServerClock(),
    ...instantWaits(),
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<AwsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof AwsError, `expected an AwsError, got ${String(error)}`);
  return error;
}

describe("SSM client: the request", () => {
  test("POST / in JSON 1.1 with the operation as X-Amz-Target, SigV4-signed for ssm in the region", async () => {
    answer = () => json({ SessionId: "s-1", TokenValue: "t", StreamUrl: "wss://x/y", Extra: 1 });
    const ssm = await client();
    const out = await ssm.startSession({
      Target: INSTANCE.web,
      DocumentName: "AWS-StartPortForwardingSession",
    });
    ssm.destroy();
    assert.deepEqual(out, { SessionId: "s-1", TokenValue: "t", StreamUrl: "wss://x/y" });
    const req = server.requests.at(-1)!;
    assert.equal(req.method, "POST");
    assert.equal(req.url, "/");
    assert.equal(req.headers["content-type"], "application/x-amz-json-1.1");
    assert.equal(req.headers["x-amz-target"], "AmazonSSM.StartSession");
    assert.deepEqual(JSON.parse(req.body), {
      Target: INSTANCE.web,
      DocumentName: "AWS-StartPortForwardingSession",
    });
    assert.equal(req.headers["x-amz-security-token"], "tok");
    const auth = parseAuthorization(String(req.headers.authorization));
    assert.ok(typeof auth !== "string", String(auth));
    assert.equal(auth.accessKeyId, "AKIAFAKE");
    assert.equal(auth.region, "eu-west-1");
    assert.equal(auth.service, "ssm");
    assert.equal(auth.date, String(req.headers["x-amz-date"]).slice(0, 8));
    for (const name of ["content-type", "host", "x-amz-date", "x-amz-security-token", "x-amz-target"]) {
      assert.ok(auth.signedHeaders.includes(name), `${name} is signed: ${auth.signedHeaders.join(";")}`);
    }
    // Signed over the body as sent: a verifier with the secret computes the same signature.
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(String(req.headers["x-amz-date"]))!;
    const [, y, mo, d, h, mi, s] = m.map(Number);
    const date = new Date(Date.UTC(y!, mo! - 1, d!, h, mi, s));
    const received = {
      method: req.method,
      path: "/",
      query: {},
      headers: req.headers,
      body: Buffer.from(req.body),
    };
    assert.equal(await signatureMatches(received, auth, date, creds.secretAccessKey, "tok"), true);
    assert.equal(await signatureMatches(received, auth, date, "another-secret", "tok"), false);
  });

  test("the default endpoint is the region's, amazonaws.com.cn in China", () => {
    assert.equal(awsEndpoint("ssm", "eu-west-1"), "https://ssm.eu-west-1.amazonaws.com");
    assert.equal(awsEndpoint("ssm", "cn-north-1"), "https://ssm.cn-north-1.amazonaws.com.cn");
  });

  test("DescribeInstanceInformation: the fields we read, each only with its type", async () => {
    answer = () =>
      json({
        InstanceInformationList: [
          { InstanceId: "i-1", PingStatus: "Online", IPAddress: "10.0.0.1", LastPingDateTime: 1.7e9 },
          { InstanceId: 7, PingStatus: "ConnectionLost" },
          "junk",
        ],
        NextToken: "next",
      });
    const ssm = await client();
    const out = await ssm.describeInstanceInformation({ MaxResults: 5 });
    ssm.destroy();
    assert.deepEqual(out, {
      NextToken: "next",
      InstanceInformationList: [
        { InstanceId: "i-1", PingStatus: "Online", IPAddress: "10.0.0.1" },
        { PingStatus: "ConnectionLost" },
      ],
    });
  });

  test("every call is one debug line: operation, status, attempts, duration; no secrets", async () => {
    const lines: string[] = [];
    const logger = createLogger(1, (l) => lines.push(l));
    let calls = 0;
    answer = () => (++calls === 1 ? json({ __type: "InternalServerError" }, 500) : json({}));
    const ssm = await client({ logger });
    await ssm.terminateSession({ SessionId: "s-1" });
    answer = () => json({ __type: "DoesNotExistException", message: "Session s-2 does not exist." }, 400);
    await failure(ssm.terminateSession({ SessionId: "s-2" }));
    ssm.destroy();
    assert.ok(
      lines.some((l) => /^debug: aws: SSM TerminateSession -> 200 after 2 attempts in \d+ ms$/.test(l)),
      lines.join("\n"),
    );
    assert.ok(
      lines.some((l) => /^debug: aws: SSM TerminateSession -> 400 DoesNotExistException in \d+ ms$/.test(l)),
      lines.join("\n"),
    );
    assert.ok(lines.every((l) => !l.includes(creds.secretAccessKey)));
  });
});

describe("SSM client: failures come out as the one classification says", () => {
  const cases: Array<[string, FakeResponse, { code: string; kind: string; retryable: boolean }]> = [
    [
      "AccessDenied",
      json({ __type: "AccessDeniedException", message: "User: arn:x is not authorized" }, 400),
      { code: "AccessDeniedException", kind: "denied", retryable: false },
    ],
    [
      "ExpiredToken",
      json({ __type: "com.amazon.coral.service#ExpiredTokenException", message: "expired" }, 400),
      { code: "ExpiredTokenException", kind: "credentials", retryable: false },
    ],
    [
      "unknown key",
      json({ __type: "UnrecognizedClientException", message: "bad" }, 400),
      { code: "UnrecognizedClientException", kind: "credentials", retryable: false },
    ],
    [
      "Throttling",
      json({ __type: "ThrottlingException", message: "Rate exceeded" }, 400),
      { code: "ThrottlingException", kind: "throttled", retryable: true },
    ],
    [
      "InvalidInstanceId",
      json({ __type: "InvalidInstanceId", message: "nope" }, 400),
      { code: "InvalidInstanceId", kind: "not-found", retryable: false },
    ],
    [
      "TargetNotConnected",
      json({ __type: "TargetNotConnected", message: "i-1 is not connected." }, 400),
      { code: "TargetNotConnected", kind: "unavailable", retryable: true },
    ],
    [
      "code in X-Amzn-ErrorType",
      json({ message: "m" }, 400, {
        "x-amzn-errortype": "ValidationException:http://internal.amazon.com/coral/",
      }),
      { code: "ValidationException", kind: "invalid", retryable: false },
    ],
    [
      "5xx with a code",
      json({ __type: "InternalServerError", message: "oops" }, 500),
      { code: "InternalServerError", kind: "server", retryable: true },
    ],
    [
      "503, not JSON",
      { status: 503, contentType: "text/html", body: "<html>busy</html>" },
      { code: "UnknownError", kind: "server", retryable: true },
    ],
    [
      "429, not JSON",
      { status: 429, contentType: "text/plain", body: "slow down" },
      { code: "UnknownError", kind: "throttled", retryable: true },
    ],
    [
      "400, not JSON",
      { status: 400, contentType: "text/plain", body: "what" },
      { code: "UnknownError", kind: "other", retryable: false },
    ],
    [
      "200, not JSON",
      { status: 200, contentType: "text/plain", body: "[1]" },
      { code: "InvalidResponse", kind: "other", retryable: false },
    ],
  ];
  for (const [name, response, expected] of cases) {
    test(name, async () => {
      answer = () => response;
      const ssm = await client({ maxAttempts: 1 });
      const error = await failure(ssm.startSession({ Target: "i-1" }));
      ssm.destroy();
      assert.deepEqual({ code: error.awsCode, kind: error.kind, retryable: error.retryable }, expected);
      assert.match(error.message, /^SSM StartSession: /);
    });
  }

  test("AWS's own message is kept where the classification shows it", async () => {
    answer = () =>
      json(
        { __type: "AccessDeniedException", Message: "User: arn:aws:iam::1:user/x is not authorized" },
        400,
      );
    const ssm = await client({ maxAttempts: 1 });
    const error = await failure(ssm.startSession({ Target: "i-1" }));
    ssm.destroy();
    assert.equal(
      error.message,
      "SSM StartSession: access denied: User: arn:aws:iam::1:user/x is not authorized",
    );
  });

  test("no answer at all: a retryable networking error naming the code", async () => {
    const ssm = await client({ maxAttempts: 1, env: { AWS_ENDPOINT_URL_SSM: "http://127.0.0.1:1" } });
    const error = await failure(ssm.startSession({ Target: "i-1" }));
    ssm.destroy();
    assert.equal(error.kind, "network");
    assert.equal(error.retryable, true);
    assert.equal(error.message, "SSM StartSession: cannot reach the AWS endpoint (ECONNREFUSED)");
  });

  test("a credentials provider's failure reaches the caller as it was, not retried", async () => {
    let asked = 0;
    const ssm = await client({
      credentials: async () => {
        asked++;
        throw Object.assign(new Error("could not load credentials from any providers"), {
          name: "CredentialsProviderError",
        });
      },
    });
    const before = server.requests.length;
    const error = await failure(ssm.startSession({ Target: "i-1" }));
    ssm.destroy();
    assert.equal(error.awsCode, "CredentialsProviderError");
    assert.equal(error.kind, "config");
    assert.equal(asked, 1);
    assert.equal(server.requests.length, before);
  });

  test("an aborted call ends at once, also while waiting to retry", async () => {
    answer = () => json({ __type: "ThrottlingException" }, 400);
    const controller = new AbortController();
    const never: Clock = {
      ...instantWaits().clock,
      after: () => {
        controller.abort();
        return { cancel: () => {} };
      },
    };
    const ssm = await client({ clock: never });
    const before = server.requests.length;
    const error = await failure(ssm.resumeSession({ SessionId: "s" }, { abortSignal: controller.signal }));
    ssm.destroy();
    assert.equal(error.awsCode, "AbortError");
    assert.equal(server.requests.length, before + 1);
  });
});

describe("SSM client: retries as the SDK's standard mode", () => {
  const counting = (response: FakeResponse) => {
    let n = 0;
    answer = () => {
      n++;
      return response;
    };
    return () => n;
  };

  test("throttling: 3 attempts by default, with growing jittered waits from the injected entropy", async () => {
    const count = counting(json({ __type: "ThrottlingException" }, 400));
    const timing = instantWaits(0.75);
    const ssm = await client(timing);
    const error = await failure(ssm.startSession({ Target: "i-1" }));
    ssm.destroy();
    assert.equal(error.kind, "throttled");
    assert.equal(count(), 3);
    // Full jitter under a cap of 500 ms × 2^retry: 0.75 of 1000, then of 2000.
    assert.deepEqual(timing.waits, [750, 1500]);
  });

  test("5xx and a reset connection are retried; maxAttempts bounds them", async () => {
    let n = 0;
    answer = () =>
      ++n === 1 ? { body: "", reset: true } : n === 2 ? json({}, 502) : json({ SessionId: "s-9" });
    const timing = instantWaits(0.5);
    const ssm = await client(timing);
    const out = await ssm.resumeSession({ SessionId: "s-9" });
    assert.equal(out.SessionId, "s-9");
    assert.equal(n, 3);
    // The base of anything but throttling is 100 ms.
    assert.deepEqual(timing.waits, [100, 200]);

    const count = counting(json({}, 503));
    const five = await client({ maxAttempts: 5 });
    await failure(five.startSession({ Target: "i-1" }));
    assert.equal(count(), 5);
    ssm.destroy();
    five.destroy();
  });

  for (const [name, code] of [
    ["access denied", "AccessDeniedException"],
    ["an agent not connected", "TargetNotConnected"],
    ["an unknown session", "DoesNotExistException"],
    ["a validation error", "ValidationException"],
  ] as const) {
    test(`${name} is not retried`, async () => {
      const count = counting(json({ __type: code }, 400));
      const timing = instantWaits();
      const ssm = await client(timing);
      const error = await failure(ssm.startSession({ Target: "i-1" }));
      ssm.destroy();
      assert.equal(error.awsCode, code);
      assert.equal(count(), 1);
      assert.deepEqual(timing.waits, []);
    });
  }
});

describe("SSM client: credentials and clocks", () => {
  test("rejected credentials are renewed once through renewCredentials, then the call is made again", async () => {
    answer = (req) =>
      String(req.headers.authorization).includes("AKIABAD")
        ? json({ __type: "UnrecognizedClientException" }, 400)
        : json({ SessionId: "s-1" });
    let current = { accessKeyId: "AKIABAD", secretAccessKey: "x" };
    const renewals: string[] = [];
    const ssm = await client({
      credentials: async () => current,
      renewCredentials: async (rejected) => {
        renewals.push(rejected.awsCode);
        current = { accessKeyId: "AKIAGOOD", secretAccessKey: "y" };
        return true;
      },
    });
    assert.equal((await ssm.startSession({ Target: "i-1" })).SessionId, "s-1");
    assert.deepEqual(renewals, ["UnrecognizedClientException"]);

    // Renewing that cannot help: the classified error after one more try at most.
    current = { accessKeyId: "AKIABAD", secretAccessKey: "x" };
    let asked = 0;
    const stuck = await client({
      credentials: async () => current,
      renewCredentials: async () => {
        asked++;
        return true;
      },
    });
    const before = server.requests.length;
    const error = await failure(stuck.startSession({ Target: "i-1" }));
    assert.equal(error.kind, "credentials");
    assert.equal(asked, 1);
    assert.equal(server.requests.length, before + 2);
    ssm.destroy();
    stuck.destroy();
  });

  test("signing uses systemClockOffset, then the clock learned from the answers' Date", async () => {
    const serverTime = Date.now() + 3 * 3600_000;
    answer = () => json({}, 200, { date: new Date(serverTime).toUTCString() });
    const clock = new ServerClock();
    const ssm = await client({ serverClock: clock, systemClockOffset: -2 * 3600_000 });
    const amzDate = () => {
      const t = String(server.requests.at(-1)!.headers["x-amz-date"]);
      return Date.parse(
        `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}Z`,
      );
    };
    await ssm.terminateSession({ SessionId: "s" });
    assert.ok(Math.abs(amzDate() - (Date.now() - 2 * 3600_000)) < 60_000, "the configured offset");
    assert.ok(Math.abs(clock.offsetMs - 3 * 3600_000) < 60_000, "the Date header was learned");
    await ssm.terminateSession({ SessionId: "s" });
    assert.ok(Math.abs(amzDate() - serverTime) < 60_000, "the service's clock");
    ssm.destroy();
  });

  test("an error answer's Date is learned too, and a signing-time error is retried at the corrected time", async () => {
    const serverTime = Date.now() + 3600_000;
    let n = 0;
    answer = () =>
      ++n === 1
        ? json({ __type: "InvalidSignatureException", message: "Signature expired" }, 400, {
            date: new Date(serverTime).toUTCString(),
          })
        : json({ SessionId: "s-1" });
    const ssm = await client();
    assert.equal((await ssm.startSession({ Target: "i-1" })).SessionId, "s-1");
    assert.equal(n, 2);
    ssm.destroy();
  });

  // The working day's last heal: the emulator's clock jumped 21 minutes while no call was made,
  // so credentials fresh by our clock had expired by the service's.
  const jumps = [
    {
      name: "ExpiredTokenException, the service's clock 21 min ahead",
      error: "ExpiredTokenException",
      aheadMs: 21 * 60_000,
      attempts: 2,
    },
    {
      name: "ExpiredTokenException, the clocks 1 min apart",
      error: "ExpiredTokenException",
      aheadMs: 60_000,
      attempts: 1,
    },
    {
      name: "a signing-time error, the clocks 1 min apart",
      error: "InvalidSignatureException",
      aheadMs: 60_000,
      attempts: 2,
    },
    {
      name: "a signing-time error, the clocks agree",
      error: "InvalidSignatureException",
      aheadMs: 0,
      attempts: 1,
    },
  ];
  for (const { name, error, aheadMs, attempts } of jumps) {
    test(`a clock correction retries once: ${name} → ${attempts} attempt(s)`, async () => {
      const serverTime = () => Date.now() + aheadMs;
      const expiration = new Date(Date.now() + 10 * 60_000);
      let n = 0;
      answer = () =>
        ++n === 1
          ? json({ __type: error, message: "no" }, 400, { date: new Date(serverTime()).toUTCString() })
          : json({ SessionId: "s-1" });
      let asked = 0;
      const ssm = await client({
        credentials: async () => {
          asked++;
          return { ...creds, expiration };
        },
        renewCredentials: async () => false,
      });
      const result = ssm.startSession({ Target: "i-1" }).then(
        (out) => out.SessionId,
        (e: unknown) => (e as AwsError).awsCode,
      );
      assert.equal(await result, attempts === 2 ? "s-1" : error);
      assert.equal(n, attempts);
      // Each attempt asks for its credentials (a renewer is present): the second sees the new clock.
      assert.equal(asked, attempts);
      ssm.destroy();
    });
  }
});

describe("SSM client: HTTP settings", () => {
  /** An HTTP proxy that answers absolute-form requests itself, recording what it got. */
  async function recordingProxy(): Promise<{ url: string; seen: string[]; server: Server }> {
    const seen: string[] = [];
    const proxy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify({ SessionId: "via-proxy" }));
      });
    });
    proxy.listen(0, "127.0.0.1");
    await once(proxy, "listening");
    return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, seen, server: proxy };
  }

  test("HTTP_PROXY carries http:// calls in absolute form; NO_PROXY bypasses it", async () => {
    const proxy = await recordingProxy();
    try {
      const via = await client({ env: { AWS_ENDPOINT_URL_SSM: server.url, HTTP_PROXY: proxy.url } });
      assert.equal((await via.startSession({ Target: "i-1" })).SessionId, "via-proxy");
      assert.deepEqual(proxy.seen, [`POST ${server.url}/`]);
      via.destroy();

      answer = () => json({ SessionId: "direct" });
      const direct = await client({
        env: { AWS_ENDPOINT_URL_SSM: server.url, HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" },
      });
      assert.equal((await direct.startSession({ Target: "i-1" })).SessionId, "direct");
      assert.equal(proxy.seen.length, 1);
      direct.destroy();
    } finally {
      proxy.server.close();
    }
  });

  test("a proxy that is down is a networking error that names it", async () => {
    const ssm = await client({
      maxAttempts: 1,
      env: { AWS_ENDPOINT_URL_SSM: server.url, HTTP_PROXY: "http://127.0.0.1:1" },
    });
    const error = await failure(ssm.startSession({ Target: "i-1" }));
    ssm.destroy();
    assert.equal(error.kind, "network");
    assert.match(error.message, /^SSM StartSession: cannot connect to the proxy http:\/\/127\.0\.0\.1:1/);
  });
});

describe("SSM client against the emulator (which verifies every signature)", () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startEmulator({});
  });
  after(() => emulator.close());

  test("createClient('ssm'): StartSession, ResumeSession, TerminateSession and DescribeInstanceInformation", async () => {
    const ssm = await createClient("ssm", {
      region: emulator.fixture.region,
      credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey },
      logger: silentLogger,
      env: { AWS_ENDPOINT_URL: emulator.endpointUrl },
    });
    emulator.requestLog.clear();
    const started = await ssm.startSession({ Target: INSTANCE.web });
    assert.ok(started.SessionId && started.TokenValue && started.StreamUrl);
    const resumed = await ssm.resumeSession({ SessionId: started.SessionId });
    assert.ok(resumed.TokenValue && resumed.StreamUrl);
    await ssm.terminateSession({ SessionId: started.SessionId });
    const info = await ssm.describeInstanceInformation({
      Filters: [{ Key: "InstanceIds", Values: [INSTANCE.web] }],
    });
    assert.deepEqual(
      info.InstanceInformationList?.map((i) => i.InstanceId),
      [INSTANCE.web],
    );
    const gone = await failure(ssm.resumeSession({ SessionId: "s-0000000000000000" }));
    assert.equal(gone.kind, "not-found");
    ssm.destroy();
    assert.deepEqual(
      emulator.requestLog.entries().map((e) => [e.operation, e.status, e.accessKeyId]),
      [
        ["StartSession", 200, ALICE.accessKeyId],
        ["ResumeSession", 200, ALICE.accessKeyId],
        ["TerminateSession", 200, ALICE.accessKeyId],
        ["DescribeInstanceInformation", 200, ALICE.accessKeyId],
        ["ResumeSession", 400, ALICE.accessKeyId],
      ],
    );
  });

  test("a wrong secret is the emulator's signature mismatch, classified as credentials", async () => {
    const ssm = await createSsmClient({
      region: emulator.fixture.region,
      credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: "wrong" },
      logger: silentLogger,
      env: { AWS_ENDPOINT_URL: emulator.endpointUrl },
    });
    const error = await failure(ssm.startSession({ Target: INSTANCE.web }));
    ssm.destroy();
    assert.equal(error.kind, "credentials");
    assert.equal(error.awsCode, "InvalidSignatureException");
  });
});
