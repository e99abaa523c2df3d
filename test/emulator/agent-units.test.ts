import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { CLIENT_VERSION } from "../../packages/aws-runas/src/datachannel/client.js";
import { DRAIN_MARKER, DrainMarkerScanner } from "../../packages/emulator/src/agent/drain-marker.js";
import {
  AgentError,
  acceptHandshakeResponse,
  buildHandshakeRequest,
  choosePortMode,
  compareVersions,
  needsHandshake,
  OutputGate,
  resolvePortTarget,
  SHELL_PROMPT,
  SourcePump,
  shellLaunch,
  splitPayloads,
} from "../../packages/emulator/src/agent/index.js";
import type { AgentSessionSpec } from "../../packages/emulator/src/agent/types.js";
import { parseDataChannelUrl, streamUrlFor } from "../../packages/emulator/src/gateway/route.js";

const portSpec: AgentSessionSpec = {
  sessionId: "alice-0123",
  instanceId: "i-0123456789abcdef0",
  agentVersion: "3.3.40.0",
  sessionType: "Port",
  properties: { portNumber: "80", type: "LocalPortForwarding", localPortNumber: "0" },
};

describe("agent version rules", () => {
  test("our ClientVersion is at least 1.2.764.0 (oldest supported plugin) and gets smux without keepalive", () => {
    assert.ok(compareVersions(CLIENT_VERSION, "1.2.764.0")! >= 0);
    const mode = choosePortMode({
      type: "LocalPortForwarding",
      clientVersion: CLIENT_VERSION,
      agentVersion: "3.3.40.0",
    });
    assert.equal(mode.mode, "mux");
    assert.equal(mode.keepAlive, false);
  });

  test("compareVersions: numeric per component, longer wins on a tie, junk is undefined", () => {
    assert.ok(compareVersions("1.1.70", "1.1.70")! === 0);
    assert.ok(compareVersions("1.1.70.0", "1.1.70")! > 0);
    assert.ok(compareVersions("1.10.0", "1.9.9")! > 0);
    assert.ok(compareVersions("1.2.331.0", "1.2.331.1")! < 0);
    assert.equal(compareVersions("1.2.x", "1.2.0"), undefined);
    assert.equal(compareVersions("", "1"), undefined);
  });

  test("choosePortMode follows the agent: mux from client 1.1.70 on new agents, keepalive up to 1.2.331.0", () => {
    const lpf = "LocalPortForwarding";
    const modern = "3.3.40.0";
    assert.deepEqual(choosePortMode({ type: lpf, clientVersion: "1.2.650.0", agentVersion: modern }), {
      mode: "mux",
      keepAlive: false,
    });
    assert.deepEqual(choosePortMode({ type: lpf, clientVersion: "1.2.331.0", agentVersion: modern }), {
      mode: "mux",
      keepAlive: true,
    });
    assert.deepEqual(choosePortMode({ type: lpf, clientVersion: "1.2.0.0", agentVersion: modern }), {
      mode: "mux",
      keepAlive: true,
    });
    assert.equal(choosePortMode({ type: lpf, clientVersion: "1.1.70", agentVersion: modern }).mode, "mux");
    assert.equal(
      choosePortMode({ type: lpf, clientVersion: "1.1.69.9", agentVersion: modern }).mode,
      "basic",
    );
    assert.equal(
      choosePortMode({ type: lpf, clientVersion: "1.2.650.0", agentVersion: "3.0.196.0" }).mode,
      "basic",
    );
    assert.equal(
      choosePortMode({ type: lpf, clientVersion: "1.2.650.0", agentVersion: "3.0.196.1" }).mode,
      "mux",
    );
    // Agents up to 3.1.1511.0 predate the client-version rule: keepalive stays on for every client.
    assert.deepEqual(choosePortMode({ type: lpf, clientVersion: "1.2.650.0", agentVersion: "3.1.1511.0" }), {
      mode: "mux",
      keepAlive: true,
    });
    assert.equal(
      choosePortMode({ type: lpf, clientVersion: "1.2.650.0", agentVersion: "3.1.1511.1" }).keepAlive,
      false,
    );
    assert.equal(
      choosePortMode({ type: undefined, clientVersion: "1.2.650.0", agentVersion: modern }).mode,
      "basic",
    );
    assert.equal(choosePortMode({ type: lpf, clientVersion: "", agentVersion: modern }).mode, "basic");
  });
});

describe("splitPayloads", () => {
  test("cuts at 1024 bytes and never splits a UTF-8 character when asked", () => {
    const text = Buffer.from(`${"a".repeat(1022)}€${"b".repeat(10)}`); // € is 3 bytes at 1022..1024
    const plain = splitPayloads(text);
    assert.deepEqual(
      plain.map((c) => c.length),
      [1024, 11],
    );
    const utf8 = splitPayloads(text, 1024, true);
    assert.deepEqual(
      utf8.map((c) => c.length),
      [1022, 13],
    );
    assert.equal(Buffer.concat(utf8).toString(), text.toString());
    assert.deepEqual(splitPayloads(Buffer.alloc(0)), []);
  });

  test("property: chunks concatenate to the input, each within the limit, UTF-8 text stays decodable", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 3000 }),
        fc.integer({ min: 4, max: 1024 }),
        (s, max) => {
          const buf = Buffer.from(s);
          const chunks = splitPayloads(buf, max, true);
          assert.ok(Buffer.concat(chunks).equals(buf));
          for (const c of chunks) {
            assert.ok(c.length >= 1 && c.length <= max);
            assert.equal(Buffer.from(c.toString("utf8")).equals(c), true);
          }
        },
      ),
    );
  });
});

describe("DrainMarkerScanner", () => {
  test("removes the marker even when it is split across chunks; other bytes pass in order", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.string({ maxLength: 50 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 20 }),
        (before, after, cuts) => {
          const all = Buffer.from(before + DRAIN_MARKER + after);
          const scanner = new DrainMarkerScanner();
          const out: Buffer[] = [];
          let foundAt = -1;
          let offset = 0;
          let i = 0;
          while (offset < all.length) {
            const size = cuts[i++ % Math.max(cuts.length, 1)] ?? all.length;
            const r = scanner.push(all.subarray(offset, offset + size));
            out.push(r.data);
            if (r.found) foundAt = i;
            offset += size;
          }
          out.push(scanner.flush());
          assert.ok(foundAt > 0);
          assert.equal(Buffer.concat(out).toString(), before + after);
        },
      ),
    );
  });

  test("a stream without the marker comes out unchanged after flush", () => {
    const scanner = new DrainMarkerScanner();
    const a = scanner.push(Buffer.from("abc\x1b]13"));
    assert.equal(a.data.toString(), "abc");
    const b = scanner.flush();
    assert.equal(b.toString(), "\x1b]13");
    assert.equal(scanner.found, false);
  });
});

describe("port targets", () => {
  test("localhost and the fixture's remote hosts map to 127.0.0.1; anything else cannot be dialled", () => {
    assert.deepEqual(resolvePortTarget({ portNumber: "22" }, []), {
      host: "127.0.0.1",
      port: 22,
      requested: "localhost:22",
    });
    assert.equal(
      resolvePortTarget({ portNumber: "5432", host: "DB.internal" }, ["db.internal"]).host,
      "127.0.0.1",
    );
    assert.equal(resolvePortTarget({ portNumber: "80", host: "localhost" }, []).port, 80);
    assert.match(
      resolvePortTarget({ portNumber: "80", host: "10.0.0.1" }, ["db.internal"]).unreachable ?? "",
      /^dial tcp 10\.0\.0\.1:80: connect: no route to host$/,
    );
    assert.match(
      resolvePortTarget({ portNumber: "80", host: "nope.internal" }, ["db.internal"]).unreachable ?? "",
      /lookup nope\.internal: no such host/,
    );
    const patterns = ["db.internal", "*.test.internal"];
    for (const host of ["a.test.internal", "X.Y.TEST.internal", "db.internal"]) {
      const target = resolvePortTarget({ portNumber: "81", host }, patterns);
      assert.deepEqual([target.host, target.port, target.unreachable], ["127.0.0.1", 81, undefined], host);
    }
    for (const host of ["test.internal", "a.test.internal.evil", "atest.internal"]) {
      assert.ok(resolvePortTarget({ portNumber: "81", host }, patterns).unreachable, host);
    }
    for (const host of ["169.254.169.254", "fd00:ec2::254", "[fd00:ec2::254]"]) {
      assert.throws(
        () => resolvePortTarget({ portNumber: "80", host }, patterns),
        (e: unknown) => e instanceof AgentError && /is forbidden\.$/.test(e.message),
        host,
      );
    }
    assert.throws(() => resolvePortTarget({ portNumber: "0" }, []), AgentError);
    assert.throws(() => resolvePortTarget({ portNumber: "http" }, []), AgentError);
  });
});

describe("agent handshake payloads", () => {
  test("Port sessions: SessionType with the document properties, no KMS even with a key", () => {
    const spec = { ...portSpec, kmsKeyId: "k" };
    assert.ok(needsHandshake(spec));
    assert.deepEqual(buildHandshakeRequest(spec), {
      AgentVersion: "3.3.40.0",
      RequestedClientActions: [
        {
          ActionType: "SessionType",
          ActionParameters: { SessionType: "Port", Properties: portSpec.properties },
        },
      ],
    });
  });

  test("shells: no handshake without KMS; SessionType (null properties) then KMSEncryption with it", () => {
    const shell: AgentSessionSpec = { ...portSpec, sessionType: "Standard_Stream", properties: null };
    assert.equal(needsHandshake(shell), false);
    const kms = { ...shell, kmsKeyId: "key-1" };
    assert.ok(needsHandshake(kms));
    assert.deepEqual(
      buildHandshakeRequest(kms).RequestedClientActions.map((a) => a.ActionType),
      ["SessionType", "KMSEncryption"],
    );
  });

  test("acceptHandshakeResponse: takes ClientVersion and the data key; a failed or missing action throws", () => {
    const kms: AgentSessionSpec = {
      ...portSpec,
      sessionType: "Standard_Stream",
      properties: null,
      kmsKeyId: "k",
    };
    const request = buildHandshakeRequest(kms);
    const ok = acceptHandshakeResponse(request, {
      ClientVersion: "1.2.650.0",
      ProcessedClientActions: [
        { ActionType: "SessionType", ActionStatus: 1, ActionResult: null, Error: "" },
        {
          ActionType: "KMSEncryption",
          ActionStatus: 1,
          ActionResult: { KMSCipherTextKey: Buffer.from("blob").toString("base64"), KMSCipherTextHash: null },
          Error: "",
        },
      ],
      Errors: null,
    });
    assert.equal(ok.clientVersion, "1.2.650.0");
    assert.equal(ok.kmsCipherTextKey?.toString(), "blob");
    assert.throws(
      () =>
        acceptHandshakeResponse(request, {
          ClientVersion: "1",
          ProcessedClientActions: [
            { ActionType: "SessionType", ActionStatus: 1, ActionResult: null, Error: "" },
          ],
          Errors: null,
        }),
      /KMSEncryption was not processed/,
    );
  });
});

describe("shell launch", () => {
  test("bash without rc files, a wrapper that drains, the command passed as an argument", () => {
    const env = { PROMPT_COMMAND: "x", HOME: "/home/u" };
    const shell = shellLaunch("/bin/bash", undefined, env);
    assert.equal(shell.file, "/bin/bash");
    assert.deepEqual(shell.args.slice(0, 3), ["--noprofile", "--norc", "-c"]);
    assert.match(shell.args[3]!, /-i; /);
    assert.equal(shell.args[4], "/bin/bash");
    assert.equal(shell.env.PROMPT_COMMAND, undefined);
    assert.equal(shell.env.HISTFILE, "");
    assert.equal(shell.env.PS1, SHELL_PROMPT);
    const cmd = shellLaunch("/bin/bash", "echo 'a b'; exit 3", env);
    assert.equal(cmd.args.at(-1), "echo 'a b'; exit 3");
    assert.ok(!cmd.args[3]!.includes("echo 'a b'"), "the command is never pasted into the script");
  });
});

describe("SourcePump", () => {
  function setup(pacing: "none" | "realistic") {
    let open = true;
    const gate = new OutputGate(() => open);
    const sent: Buffer[] = [];
    const events: string[] = [];
    const pump = new SourcePump({ gate, pacing, send: (c) => sent.push(c) });
    pump.bind({ pause: () => events.push("pause"), resume: () => events.push("resume") });
    const setOpen = (value: boolean) => {
      open = value;
      gate.recheck();
    };
    return { pump, sent, events, setOpen };
  }

  test("none: sends at once in ≤1024-byte payloads; a shut gate pauses the source until it opens", async () => {
    const s = setup("none");
    s.pump.push(Buffer.alloc(2500, 1));
    assert.deepEqual(
      s.sent.map((c) => c.length),
      [1024, 1024, 452],
    );
    assert.deepEqual(s.events, []);
    s.setOpen(false);
    s.pump.push(Buffer.alloc(10, 2));
    assert.equal(s.sent.length, 3);
    assert.deepEqual(s.events, ["pause"]);
    const idle = s.pump.whenIdle();
    s.setOpen(true);
    await idle;
    assert.equal(s.sent.length, 4);
    assert.deepEqual(s.events, ["pause", "resume"]);
  });

  test("realistic: the source stays paused while chunks go out one by one", async () => {
    const s = setup("realistic");
    s.pump.push(Buffer.alloc(3000));
    assert.deepEqual(s.events, ["pause"]);
    assert.equal(s.sent.length, 1);
    await s.pump.whenIdle();
    assert.deepEqual(
      s.sent.map((c) => c.length),
      [1024, 1024, 952],
    );
    assert.deepEqual(s.events, ["pause", "resume"]);
  });
});

describe("gateway routes", () => {
  test("data-channel URLs carry the session id; other paths and roles do not match", () => {
    assert.equal(parseDataChannelUrl("/v1/data-channel/alice-0abc?role=publish_subscribe"), "alice-0abc");
    assert.equal(parseDataChannelUrl("/v1/data-channel/alice-0abc"), "alice-0abc");
    assert.equal(parseDataChannelUrl("/v1/data-channel/a?role=subscribe"), undefined);
    assert.equal(parseDataChannelUrl("/v1/data-channel/"), undefined);
    assert.equal(parseDataChannelUrl("/v1/other/x"), undefined);
    assert.equal(parseDataChannelUrl(undefined), undefined);
    const url = streamUrlFor("ws://127.0.0.1:4000", "bob-1");
    assert.equal(url, "ws://127.0.0.1:4000/v1/data-channel/bob-1?role=publish_subscribe");
    assert.equal(parseDataChannelUrl(new URL(url).pathname + new URL(url).search), "bob-1");
  });
});
