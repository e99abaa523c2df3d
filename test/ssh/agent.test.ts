import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { listAgentIdentities } from "../../packages/aws-runas/src/ssh/agent.js";
import {
  AGENT_MAX_MESSAGE,
  AgentFrameDecoder,
  decodeIdentitiesAnswer,
  encodeAgentMessage,
} from "../../packages/aws-runas/src/ssh/agent-protocol.js";
import { SshAgentError, SshFormatError } from "../../packages/aws-runas/src/ssh/errors.js";
import { formatPublicKey, publicKeyFromBlob } from "../../packages/aws-runas/src/ssh/public-key.js";
import { generateKey, startAgent, startFakeAgent, tempDir } from "./openssh-tools.js";

/** Hand-built SSH string: uint32 length + bytes (independent of src/ssh/wire.ts). */
function str(value: Buffer | string): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value) : value;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

function framed(type: number, body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length + 1);
  return Buffer.concat([len, Buffer.from([type]), body]);
}

function answer(keys: [Buffer, string][]): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(keys.length);
  return framed(12, Buffer.concat([count, ...keys.flatMap(([blob, comment]) => [str(blob), str(comment)])]));
}

const BLOB_A = Buffer.concat([str("ssh-ed25519"), str(Buffer.alloc(32, 7))]);
const BLOB_B = Buffer.concat([str("ecdsa-sha2-nistp256"), str("nistp256"), str(Buffer.from([4, 1, 2]))]);

describe("agent protocol codec", () => {
  test("REQUEST_IDENTITIES is the 5 bytes 00 00 00 01 0b", () => {
    assert.deepEqual(encodeAgentMessage(11), Buffer.from([0, 0, 0, 1, 11]));
  });

  test("decodes an IDENTITIES_ANSWER", () => {
    const [message] = new AgentFrameDecoder().push(
      answer([
        [BLOB_A, "first"],
        [BLOB_B, "sécond"],
      ]),
    );
    assert.deepEqual(decodeIdentitiesAnswer(message!), [
      { blob: BLOB_A, comment: "first" },
      { blob: BLOB_B, comment: "sécond" },
    ]);
  });

  test("any split of the byte stream yields the same messages", () => {
    const stream = Buffer.concat([answer([[BLOB_A, "a"]]), framed(5, Buffer.alloc(0)), answer([])]);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 10 }),
        (cuts) => {
          const decoder = new AgentFrameDecoder();
          const points = [0, ...cuts.sort((a, b) => a - b), stream.length];
          const messages: Buffer[] = [];
          for (let i = 1; i < points.length; i++)
            messages.push(...decoder.push(stream.subarray(points[i - 1], points[i])));
          assert.equal(messages.length, 3);
          assert.deepEqual(decodeIdentitiesAnswer(messages[0]!), [{ blob: BLOB_A, comment: "a" }]);
          assert.equal(messages[1]![0], 5);
          assert.deepEqual(decodeIdentitiesAnswer(messages[2]!), []);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("refuses absurd lengths, failures, other types, truncation and lying counts", () => {
    const tooLong = Buffer.alloc(4);
    tooLong.writeUInt32BE(AGENT_MAX_MESSAGE + 1);
    assert.throws(() => new AgentFrameDecoder().push(tooLong), SshFormatError);
    assert.throws(() => new AgentFrameDecoder().push(Buffer.alloc(4)), /out of range/);
    assert.throws(
      () => decodeIdentitiesAnswer(Buffer.from([5])),
      (e) => e instanceof SshAgentError && /refused/.test(e.message),
    );
    assert.throws(() => decodeIdentitiesAnswer(Buffer.from([6])), /message type 6 instead of 12/);
    const full = answer([[BLOB_A, "x"]]).subarray(4);
    assert.throws(() => decodeIdentitiesAnswer(full.subarray(0, full.length - 1)), /truncated/);
    assert.throws(
      () => decodeIdentitiesAnswer(Buffer.from([12, 0xff, 0xff, 0xff, 0xff])),
      /claims 4294967295 keys/,
    );
  });
});

describe("listAgentIdentities", () => {
  test("a real ssh-agent: keys come back as their .pub blobs with comments", async (t) => {
    const dir = await tempDir(t);
    const agent = await startAgent(t);
    assert.deepEqual(await listAgentIdentities(agent.socket), []);
    const ed = await generateKey(join(dir, "ed"), "ed25519", { comment: "ed key" });
    const rsa = await generateKey(join(dir, "rsa"), "rsa", { comment: "rsa key" });
    await agent.add(ed.path);
    await agent.add(rsa.path);
    const identities = await listAgentIdentities(agent.socket);
    const lines = identities.map((i) => formatPublicKey(publicKeyFromBlob(i.blob, i.comment)));
    assert.deepEqual(lines.sort(), [ed.publicLine, rsa.publicLine].sort());
    assert.equal((await readFile(`${ed.path}.pub`, "utf8")).trim(), ed.publicLine);
  });

  test("a missing socket is an SshAgentError naming the path and the errno", async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, "none.sock");
    await assert.rejects(listAgentIdentities(path), (e: unknown) => {
      assert.ok(e instanceof SshAgentError);
      assert.equal(e.message, `cannot talk to ssh-agent at ${path} (ENOENT)`);
      return true;
    });
  });

  test("an answer delivered one byte at a time", async (t) => {
    const bytes = answer([[BLOB_A, "slow"]]);
    const path = await startFakeAgent(t, (socket) => {
      for (const b of bytes) socket.write(Buffer.from([b]));
    });
    assert.deepEqual(await listAgentIdentities(path), [{ blob: BLOB_A, comment: "slow" }]);
  });

  test("SSH_AGENT_FAILURE, garbage and an early close are errors", async (t) => {
    const failing = await startFakeAgent(t, (s) => s.write(framed(5, Buffer.alloc(0))));
    await assert.rejects(listAgentIdentities(failing), /ssh-agent refused to list its keys/);
    const garbage = await startFakeAgent(t, (s) => s.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1])));
    await assert.rejects(
      listAgentIdentities(garbage),
      (e) => e instanceof SshAgentError && /out of range/.test(e.message),
    );
    const closing = await startFakeAgent(t, (s) => s.end(Buffer.from([0, 0])));
    await assert.rejects(listAgentIdentities(closing), /closed the connection without answering/);
  });

  test("an agent that never answers times out", async (t) => {
    const silent = await startFakeAgent(t, () => {});
    await assert.rejects(listAgentIdentities(silent, { timeoutMs: 200 }), /did not answer within 200 ms/);
  });
});
