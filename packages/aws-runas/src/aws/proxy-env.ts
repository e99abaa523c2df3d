/**
 * Which proxy a connection uses, from the environment as curl, Go's net/http (the AWS CLI
 * plugin, gorilla/websocket) and botocore read it: `HTTPS_PROXY`/`https_proxy` for https:// and
 * wss://, `HTTP_PROXY`/`http_proxy` for http:// and ws://, and `NO_PROXY`/`no_proxy` exceptions.
 * Unlike Go, loopback hosts are not exempt by themselves (list them in NO_PROXY). Pure.
 */

import { RunasError } from "@aws-runas/wire/errors.js";
import type { Env } from "../config/profile-name.js";

export interface ProxySettings {
  /** For https:// and wss:// destinations. */
  https: URL | undefined;
  /** For http:// and ws:// destinations. */
  http: URL | undefined;
  /** NO_PROXY entries, lower case (`*`, `host`, `.domain`, `domain`, `host:port`, IP). */
  noProxy: string[];
}

/** A proxy URL is invalid (it names the variable, never the credentials in it). */
export class ProxyConfigError extends RunasError {
  constructor(message: string) {
    super("PROXY_CONFIG", message, {
      hint: "set it to a URL like http://proxy.example.com:3128 (user:password@ allowed), or unset it",
      exitCode: 2,
    });
  }
}

function first(env: Env, ...names: string[]): string | undefined {
  for (const name of names) {
    const v = env[name];
    if (v !== undefined && v.trim() !== "") return v.trim();
  }
  return undefined;
}

function parseProxy(text: string | undefined, variable: string): URL | undefined {
  if (text === undefined) return undefined;
  // `host:3128` without a scheme means http://host:3128, as curl and Go read it.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ProxyConfigError(`${variable} is not a valid proxy URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new ProxyConfigError(`${variable}: only http:// and https:// proxies are supported`);
  if (!url.hostname) throw new ProxyConfigError(`${variable} names no proxy host`);
  return url;
}

/** Reads the proxy variables (upper case first, as curl does for everything but http_proxy). */
export function proxySettingsFromEnv(env: Env): ProxySettings {
  const httpsVar = env.HTTPS_PROXY?.trim() ? "HTTPS_PROXY" : "https_proxy";
  const httpVar = env.HTTP_PROXY?.trim() ? "HTTP_PROXY" : "http_proxy";
  return {
    https: parseProxy(first(env, "HTTPS_PROXY", "https_proxy"), httpsVar),
    http: parseProxy(first(env, "HTTP_PROXY", "http_proxy"), httpVar),
    noProxy: (first(env, "NO_PROXY", "no_proxy") ?? "")
      .split(/[,\s]+/)
      .map((e) => e.trim().toLowerCase())
      .filter((e) => e !== ""),
  };
}

function defaultPort(protocol: string): number {
  return protocol === "https:" || protocol === "wss:" ? 443 : 80;
}

/** True when NO_PROXY exempts `host:port`. */
export function bypassesProxy(noProxy: readonly string[], host: string, port: number): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return noProxy.some((entry) => {
    if (entry === "*") return true;
    let name = entry;
    const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (withPort) {
      if (Number(withPort[2]) !== port) return false;
      name = withPort[1] ?? "";
    }
    name = name.replace(/^\[|\]$/g, "");
    if (name.startsWith("*.")) name = name.slice(1);
    if (name.startsWith(".")) return h.endsWith(name) || h === name.slice(1);
    return h === name || h.endsWith(`.${name}`);
  });
}

/** The proxy for a connection to `url` (http, https, ws or wss), or undefined to go direct. */
export function proxyFor(settings: ProxySettings, url: URL): URL | undefined {
  const secure = url.protocol === "https:" || url.protocol === "wss:";
  const proxy = secure ? settings.https : settings.http;
  if (!proxy) return undefined;
  const port = url.port ? Number(url.port) : defaultPort(url.protocol);
  return bypassesProxy(settings.noProxy, url.hostname, port) ? undefined : proxy;
}

/** `Proxy-Authorization` for a proxy URL with credentials, else undefined. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const user = decodeURIComponent(proxy.username);
  const pass = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
}

/** The proxy as printable text: scheme, host and port only (never its credentials). */
export function describeProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}
