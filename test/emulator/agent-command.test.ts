// The emulated agent's NonInteractiveCommands plugin on the wire (raw client, no aws-runas client
// code): StdErr (pt 11) and ExitCode (pt 12) exactly as amazon-ssm-agent sends them.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MessageType, PayloadType } from "@aws-runas/wire/protocol/index.js";
import { AGENT_VERSION, INSTANCE } from "../../packages/emulator/src/index.js";
import { startTestEmulator } from "./helpers/emulator.js";

const DOC = "AWS-StartNonInteractiveCommand";

/** The agent's stream data, in sequence order, as [payload type, text]. */
function streamData(
  frames: readonly {
    message: { messageType: string; payloadType: number; sequenceNumber: number; payload: Buffer };
  }[],
) {
  const seen = new Map<number, [number, string]>();
  for (const { message } of frames) {
    if (message.messageType !== MessageType.outputStreamData) continue;
    seen.set(message.sequenceNumber, [message.payloadType, message.payload.toString()]);
  }
  return [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

describe("agent: NonInteractiveCommands", () => {
  test("separated streams: Output and StdErr while it runs, then one ExitCode, then channel_closed", async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.web, DOC, {
      command: ["printf out; printf err >&2; exit 42"],
      separateOutputStream: ["true"],
    });
    const client = await emu.connect(session);
    await client.untilClosed();
    assert.deepEqual(client.handshakeRequest?.RequestedClientActions[0]?.ActionParameters, {
      SessionType: "NonInteractiveCommands",
      Properties: null,
    });
    const sessionTypes = new Set<number>([PayloadType.output, PayloadType.stdErr, PayloadType.exitCode]);
    const data = streamData(client.frames).filter(([type]) => sessionTypes.has(type));
    const byType = (type: number) =>
      data
        .filter(([t]) => t === type)
        .map(([, text]) => text)
        .join("");
    assert.equal(byType(PayloadType.output), "out");
    assert.equal(byType(PayloadType.stdErr), "err");
    assert.deepEqual(data.at(-1), [PayloadType.exitCode, "EXIT_CODE: 42"], "the exit code comes last");
    assert.equal(data.filter(([type]) => type === PayloadType.exitCode).length, 1);
  });

  test(`agent ${AGENT_VERSION.keepalive}: one merged Output, no StdErr and no ExitCode`, async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.keepalive, DOC, {
      command: ["echo out; echo err >&2; exit 3"],
      separateOutputStream: ["true"],
    });
    const client = await emu.connect(session);
    await client.untilClosed();
    const types = streamData(client.frames).map(([type]) => type);
    assert.ok(!types.includes(PayloadType.stdErr) && !types.includes(PayloadType.exitCode), `${types}`);
    assert.equal(client.text, "out\nerr\n");
  });

  test("input is no stdin: 0x03 interrupts the command, other bytes are dropped", async (t) => {
    const emu = await startTestEmulator(t);
    const session = emu.startSession(INSTANCE.web, DOC, {
      command: [
        "trap 'echo got-int; exit 7' INT; echo ready; read line; echo read-$line; while :; do sleep 1; done",
      ],
      separateOutputStream: ["true"],
    });
    const client = await emu.connect(session);
    await client.untilText("ready");
    client.write("typed\n");
    // 0x03 only once `read` has returned: sent earlier, it could interrupt before `read` runs.
    await client.untilText("read-");
    client.write(Buffer.from([0x03]));
    await client.untilClosed();
    const data = streamData(client.frames);
    assert.match(client.text, /ready\nread-\ngot-int\n/, "read got EOF (no stdin), not the typed text");
    assert.deepEqual(data.at(-1), [PayloadType.exitCode, "EXIT_CODE: 7"]);
  });
});
