import type { Logger } from "@aws-runas/wire/log.js";
import type { Env } from "../config/profile-name.js";
import type { HttpSettings } from "./json/exchange.js";
import { ProxyingHttpAgent, TunnelingHttpsAgent } from "./proxy-agent.js";
import { describeProxy, proxySettingsFromEnv } from "./proxy-env.js";

/** Connecting may take this long (a dead network fails here rather than hanging). */
const CONNECTION_TIMEOUT_MS = 10_000;
/** A request whose socket stays silent this long fails (retried by the client, then by resume). */
const REQUEST_TIMEOUT_MS = 60_000;

const caFiles = new Map<string, Promise<Buffer | undefined>>();

/**
 * The HTTP settings of every client (SDK clients take them as their request handler's):
 * timeouts, the proxy from `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (see proxy-env.ts), and
 * `AWS_CA_BUNDLE` as the trusted CAs of https:// calls (the SDK for JavaScript does not read
 * that variable itself). Each call gives new agents: a client's `destroy()` closes its own.
 */
export async function httpSettingsFor(env: Env, logger: Logger): Promise<HttpSettings> {
  const settings = proxySettingsFromEnv(env);
  const caPath = env.AWS_CA_BUNDLE;
  let ca: Buffer | undefined;
  if (caPath) {
    let pending = caFiles.get(caPath);
    if (!pending) {
      // An unreadable bundle is reported by the command before any client exists.
      pending = import("node:fs/promises")
        .then(
          (fs) => fs.readFile(caPath),
          () => undefined,
        )
        .catch(() => undefined);
      caFiles.set(caPath, pending);
    }
    ca = await pending;
  }
  if (settings.https) logger.debug(`aws: https:// through the proxy ${describeProxy(settings.https)}`);
  if (settings.http) logger.debug(`aws: http:// through the proxy ${describeProxy(settings.http)}`);
  return {
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    ...(settings.http ? { httpAgent: new ProxyingHttpAgent(settings) } : {}),
    ...(settings.https || ca ? { httpsAgent: new TunnelingHttpsAgent(settings, ca) } : {}),
  };
}
