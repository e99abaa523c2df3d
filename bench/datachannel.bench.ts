/**
 * Data channel upload throughput to a peer (separate process) that acks immediately.
 * Goals (issue #2): >= 60 MiB/s with 1 KiB payloads, >= 300 MiB/s with 64 KiB payloads, flat memory.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { DataChannel } from "../packages/aws-runas/src/datachannel/index.js";

export interface ChannelResult {
  payload: number;
  mib: number;
  mibPerSecond: number;
  rssStartMiB: number;
  rssPeakMiB: number;
}

export async function benchDataChannel(payload: number, totalMiB: number): Promise<ChannelResult> {
  const peer = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL("./peers/ack-peer.ts", import.meta.url))],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  try {
    const [line] = (await once(peer.stdout!, "data")) as [Buffer];
    const port = Number(line.toString().trim());
    const channel = await DataChannel.open({
      streamUrl: `ws://127.0.0.1:${port}/v1/data-channel/bench?role=publish_subscribe`,
      tokenValue: "bench",
      sessionId: "bench",
      targetId: "i-bench",
      limits: { maxPayload: payload },
    });
    await channel.whenReady();
    channel.resume();
    const chunk = Buffer.alloc(Math.max(payload, 64 * 1024), 0x5a);
    const total = totalMiB * 1024 * 1024;
    const rssStart = process.memoryUsage.rss();
    let rssPeak = rssStart;
    const start = performance.now();
    let n = 0;
    for (let sent = 0; sent < total; sent += chunk.length) {
      if (!channel.write(chunk)) await once(channel, "drain");
      if (++n % 64 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    }
    while (channel.endpoint.stats().unacked > 0) await new Promise((r) => setImmediate(r));
    const seconds = (performance.now() - start) / 1000;
    channel.close();
    return {
      payload,
      mib: totalMiB,
      mibPerSecond: totalMiB / seconds,
      rssStartMiB: rssStart / 2 ** 20,
      rssPeakMiB: rssPeak / 2 ** 20,
    };
  } finally {
    peer.kill();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [payload, mib] of [
    [1024, 256],
    [65536, 1024],
  ] as const) {
    const r = await benchDataChannel(payload, mib);
    console.log(
      `datachannel ${payload} B payloads: ${r.mibPerSecond.toFixed(1)} MiB/s over ${r.mib} MiB, RSS ${r.rssStartMiB.toFixed(0)} -> peak ${r.rssPeakMiB.toFixed(0)} MiB`,
    );
  }
}
