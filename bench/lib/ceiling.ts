/**
 * The emulator's own ceiling: a port-forwarding session driven in-process, with no CLI and no
 * local listener — StartSession through the SDK, then our {@link DataChannel} and an smux
 * {@link MuxSession} whose streams go straight to the emulator's agent. Whatever the CLI adds on
 * top (its process, the local TCP hop) shows as the gap between this and the forward rows.
 */
import { SSMClient, StartSessionCommand } from "@aws-sdk/client-ssm";
import { DataChannel } from "../../packages/aws-runas/src/datachannel/index.js";
import { MuxSession } from "../../packages/aws-runas/src/mux/index.js";
import { muxKeepAliveFor } from "../../packages/aws-runas/src/session/versions.js";
import { ALICE } from "../../packages/emulator/src/fixture/default.js";
import type { EmulatorProcess } from "../../test/e2e/helpers/harness.js";
import type { Connector } from "./service.js";
import { MUX_INSTANCE } from "./tools.js";

export interface CeilingSession {
  /** Opens a new smux stream to the forwarded port. */
  connector: Connector;
  close(): void;
}

/** Starts a port session to 127.0.0.1:`remotePort` on the mux instance, ready for streams. */
export async function startCeilingSession(
  emulator: EmulatorProcess,
  remotePort: number,
): Promise<CeilingSession> {
  const ssm = new SSMClient({
    region: emulator.exports.AWS_REGION ?? "us-east-1",
    endpoint: emulator.exports.AWS_ENDPOINT_URL,
    credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey },
  });
  try {
    const out = await ssm.send(
      new StartSessionCommand({
        Target: MUX_INSTANCE,
        DocumentName: "AWS-StartPortForwardingSession",
        Parameters: { portNumber: [String(remotePort)], localPortNumber: ["0"] },
      }),
    );
    if (!out.SessionId || !out.TokenValue || !out.StreamUrl)
      throw new Error("StartSession returned no session");
    const channel = await DataChannel.open({
      streamUrl: out.StreamUrl,
      tokenValue: out.TokenValue,
      sessionId: out.SessionId,
      targetId: MUX_INSTANCE,
    });
    await channel.whenReady();
    const mux = new MuxSession(channel, { client: true, keepAlive: muxKeepAliveFor(channel.agentVersion) });
    mux.on("error", () => {});
    return {
      connector: async () => mux.openStream(),
      close() {
        mux.close();
        channel.terminate();
        channel.close();
      },
    };
  } finally {
    ssm.destroy();
  }
}
