/**
 * The gateway's websocket URL (ssm-protocol.md §3.1):
 * `/v1/data-channel/<SessionId>?role=publish_subscribe`. Pure.
 */

const PATH = /^\/v1\/data-channel\/([^/?#]+)$/;

/** The session id of a data-channel URL, or undefined for any other path or role. */
export function parseDataChannelUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url, "ws://gateway.invalid");
  } catch {
    return undefined;
  }
  const match = PATH.exec(parsed.pathname);
  if (!match?.[1]) return undefined;
  const role = parsed.searchParams.get("role");
  if (role !== null && role !== "publish_subscribe") return undefined;
  let id: string;
  try {
    id = decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
  return id === "" ? undefined : id;
}

/** The StreamUrl StartSession and ResumeSession hand out for a session on `origin` (`ws://127.0.0.1:port`). */
export function streamUrlFor(origin: string, sessionId: string): string {
  return `${origin}/v1/data-channel/${encodeURIComponent(sessionId)}?role=publish_subscribe`;
}
