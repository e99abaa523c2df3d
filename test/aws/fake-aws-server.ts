/**
 * A tiny HTTP stand-in for AWS APIs on 127.0.0.1 (port 0): records every request and answers
 * with whatever the test's responder returns. Enough to check endpoints, signing headers and
 * how the SDK parses responses, without the emulator.
 */
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Query-protocol parameters (STS, EC2) parsed from a form body. */
  readonly params: URLSearchParams;
}

export interface FakeResponse {
  readonly status?: number;
  readonly contentType?: string;
  /** More response headers (a `date` here replaces the server's own). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
  /** Drop the connection instead of answering (a reset without a response). */
  readonly reset?: boolean;
}

export type Responder = (req: RecordedRequest) => FakeResponse | Promise<FakeResponse>;

export interface FakeAwsServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeAws(responder: Responder): Promise<FakeAwsServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const recorded: RecordedRequest = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      body,
      params: new URLSearchParams(body),
    };
    requests.push(recorded);
    try {
      const out = await responder(recorded);
      if (out.reset) {
        req.socket.destroy();
        return;
      }
      res.writeHead(out.status ?? 200, { "content-type": out.contentType ?? "text/xml", ...out.headers });
      res.end(out.body);
    } catch (error) {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error));
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";

/** An STS query-protocol success body. */
export function stsResult(action: string, inner: string): FakeResponse {
  return {
    body: `<${action}Response xmlns="${STS_NS}"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></${action}Response>`,
  };
}

/** An STS/EC2-style XML error. */
export function stsError(status: number, code: string, message: string): FakeResponse {
  return {
    status,
    body: `<ErrorResponse xmlns="${STS_NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`,
  };
}

/** The `<Credentials>` element of GetSessionToken / AssumeRole answers. */
export function stsCredentialsXml(c: {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}): string {
  return `<Credentials><AccessKeyId>${c.accessKeyId}</AccessKeyId><SecretAccessKey>${c.secretAccessKey}</SecretAccessKey><SessionToken>${c.sessionToken}</SessionToken><Expiration>${c.expiration.toISOString()}</Expiration></Credentials>`;
}

/** The access key id a SigV4 `Authorization` header was signed with. */
export function signingKeyId(req: RecordedRequest): string | undefined {
  const auth = req.headers.authorization;
  return typeof auth === "string" ? /Credential=([^/]+)\//.exec(auth)?.[1] : undefined;
}
