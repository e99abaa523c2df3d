/**
 * `-L [bind_address:]local_port:host:host_port`, OpenSSH's local-forward syntax (pure). IPv6
 * addresses go in brackets (`[::1]:8080:[fd00::5]:80`); `*` or an empty bind address means every
 * IPv4 interface. `host` = `localhost` is the instance itself, anything else is reached through it.
 */
import { UsageError } from "@aws-runas/wire/errors.js";
import { parseBindAddress } from "./bind.js";

/** One `-L` forward. */
export interface LocalForward {
  /** The listen address; `undefined` = the command's `--address` (default 127.0.0.1). */
  readonly bindAddress: string | undefined;
  /** 0 = any free port. */
  readonly localPort: number;
  /** Destination host as the instance sees it; brackets of IPv6 literals removed. */
  readonly host: string;
  readonly hostPort: number;
}

export const LOCAL_FORWARD_HINT =
  "use -L [bind_address:]local_port:host:host_port, e.g. -L 8080:localhost:80 or -L 5432:db.internal:5432";

/** True when the forward goes to the instance itself (AWS-StartPortForwardingSession). */
export function isInstanceDestination(forward: Pick<LocalForward, "host">): boolean {
  return forward.host.toLowerCase() === "localhost";
}

/** Parses one `-L` value; throws {@link UsageError} with the OpenSSH syntax as hint. */
export function parseLocalForward(text: string): LocalForward {
  const fail = (why: string): never => {
    throw new UsageError(`invalid -L ${JSON.stringify(text)}: ${why}`, LOCAL_FORWARD_HINT);
  };
  const fields = splitFields(text) ?? fail("unbalanced [ ] around an address");
  if (fields.length !== 3 && fields.length !== 4) {
    return fail(
      fields.length > 4
        ? "too many ':' (put IPv6 addresses in brackets)"
        : "expected local_port:host:host_port",
    );
  }
  const [bindText, portText, hostField, hostPortText] = fields.length === 4 ? fields : [undefined, ...fields];
  let bindAddress: string | undefined;
  if (bindText !== undefined) {
    try {
      bindAddress = bindText.text === "" ? "0.0.0.0" : parseBindAddress(bracket(bindText), "bind address");
    } catch (error) {
      fail((error as Error).message.replace(/^invalid /, ""));
    }
  }
  const localPort = parsePortField(portText!, 0, "local_port", fail);
  const host = hostField!.text.trim();
  if (host === "" || /\s/.test(host)) fail("empty or invalid host");
  if (!hostField!.bracketed && host.includes(":")) fail("put an IPv6 host in brackets");
  const hostPort = parsePortField(hostPortText!, 1, "host_port", fail);
  return { bindAddress, localPort, host, hostPort };
}

interface Field {
  text: string;
  bracketed: boolean;
}

function bracket(field: Field): string {
  return field.bracketed ? `[${field.text}]` : field.text;
}

/** Splits at ':' outside brackets; `null` for unbalanced or misplaced brackets. */
function splitFields(text: string): Field[] | null {
  const fields: Field[] = [];
  let i = 0;
  for (;;) {
    let field: Field;
    if (text[i] === "[") {
      const close = text.indexOf("]", i);
      if (close < 0) return null;
      field = { text: text.slice(i + 1, close), bracketed: true };
      i = close + 1;
      if (i < text.length && text[i] !== ":") return null;
    } else {
      const colon = text.indexOf(":", i);
      const end = colon < 0 ? text.length : colon;
      const raw = text.slice(i, end);
      if (raw.includes("[") || raw.includes("]")) return null;
      field = { text: raw, bracketed: false };
      i = end;
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the ':'
  }
}

function parsePortField(field: Field, min: number, name: string, fail: (why: string) => never): number {
  if (field.bracketed || !/^\d{1,5}$/.test(field.text)) return fail(`${name} is not a port number`);
  const port = Number(field.text);
  if (port < min || port > 65535) return fail(`${name} ${port} is out of range (${min}-65535)`);
  return port;
}
