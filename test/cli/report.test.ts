// The one-line error format main prints on stderr.
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { Duplex } from "node:stream";
import { describe, test } from "node:test";
import { ChannelError, RunasError, UsageError } from "@aws-runas/wire/errors.js";
import { createLogger } from "@aws-runas/wire/log.js";
import { PayloadType } from "@aws-runas/wire/protocol/index.js";
import { formatError, hintFor } from "../../packages/aws-runas/src/cli/report.js";
import { ReliableEndpoint } from "../../packages/aws-runas/src/datachannel/index.js";
import { FrameDecoder, MuxSession } from "../../packages/aws-runas/src/mux/index.js";
import { listenLocal } from "../../packages/aws-runas/src/session/port.js";
import { ManualClock } from "../helpers/manual-clock.js";

describe("formatError", () => {
  test("our error: message and hint, no stack", () => {
    const error = new UsageError("missing target_spec", "usage: aws-runas ssm shell ...");
    assert.equal(
      formatError(error, 0),
      "aws-runas: missing target_spec\nhint: usage: aws-runas ssm shell ...\n",
    );
  });

  test("our error without hint: one line", () => {
    assert.equal(formatError(new RunasError("X", "it broke"), 0), "aws-runas: it broke\n");
  });

  test("multi-line messages are folded into one line", () => {
    assert.equal(formatError(new RunasError("X", "first\n  second"), 0), "aws-runas: first second\n");
  });

  test("anything else: message plus a hint to rerun with -v", () => {
    const text = formatError(new TypeError("x is undefined"), 0);
    assert.equal(text.split("\n")[0], "aws-runas: x is undefined");
    assert.match(text.split("\n")[1] ?? "", /^hint: .*-v/);
    assert.equal(text.split("\n").length, 3);
    assert.equal(formatError("plain string", 0).split("\n")[0], "aws-runas: plain string");
  });

  test("-v adds the stack and the causes", () => {
    const cause = new Error("socket hang up");
    const error = new RunasError("X", "StartSession failed", { hint: "check the network", cause });
    const lines = formatError(error, 1).trimEnd().split("\n");
    assert.equal(lines[0], "aws-runas: StartSession failed");
    assert.equal(lines[1], "hint: check the network");
    assert.ok(
      lines.slice(2).some((l) => /^\s+at /.test(l)),
      "stack frames",
    );
    assert.ok(lines.includes("caused by: socket hang up"));
  });

  test("secrets never reach the terminal", () => {
    const logger = createLogger(0, () => {});
    logger.addSecret("123456-mfa-code");
    const error = new RunasError("X", "MFA code 123456-mfa-code was rejected");
    assert.equal(formatError(error, 0, logger.redact), "aws-runas: MFA code **** was rejected\n");
  });
});

/**
 * Errors the library raises by code alone, made by the real code paths where that is cheap (a
 * busy port, a bad smux frame, a silent smux peer, a peer that never acks); the CLI adds the
 * hint. None carries a hint of its own, and no hint points users at a spec section.
 */
describe("hints for library errors come from the CLI", () => {
  const cases: Array<{ name: string; make: () => Promise<RunasError>; message: RegExp; hint: RegExp }> = [
    {
      name: "a busy local port",
      make: async () => {
        const held = await listenLocal(0);
        const { port } = held.address() as AddressInfo;
        try {
          return await listenLocal(port).then(
            (server) => {
              server.close();
              throw new Error("the second listen succeeded");
            },
            (error: RunasError) => error,
          );
        } finally {
          held.close();
        }
      },
      message: /^local port \d+ is already in use$/,
      hint: /^choose another port with -p, or leave -p out for a random free port$/,
    },
    {
      name: "an smux frame of another version",
      make: async () => {
        try {
          new FrameDecoder({ version: 1 }).decode(Buffer.from("0203000000000000", "hex"));
        } catch (error) {
          return error as RunasError;
        }
        throw new Error("the frame decoded");
      },
      message: /bad smux frame: version 2/,
      hint: /same smux version/,
    },
    {
      name: "an smux peer silent for the keepalive timeout",
      make: async () => {
        const clock = new ManualClock();
        const transport = new Duplex({ read() {}, write: (_chunk, _encoding, callback) => callback() });
        const session = new MuxSession(transport, { client: true, keepAlive: true, clock });
        const failed = once(session, "error") as Promise<[RunasError]>;
        clock.advance(30_000);
        const [error] = await failed;
        session.close();
        return error;
      },
      message: /no smux frame from the peer for 30000 ms/,
      hint: /^both sides must agree on smux keepalive/,
    },
    {
      name: "a data channel peer that never acknowledges",
      make: async () => {
        const clock = new ManualClock();
        const endpoint = new ReliableEndpoint({
          clock,
          limits: { maxRetransmissions: 2 },
          onStreamMessage: () => "ok",
        });
        endpoint.attach({ send: () => {} });
        const failed = once(endpoint, "error") as Promise<[RunasError]>;
        endpoint.send(PayloadType.output, Buffer.from("x"));
        for (let i = 0; i < 600 && endpoint.closed === false; i++) clock.advance(100);
        return (await failed)[0];
      },
      message: /stopped acknowledging data/,
      hint: /may be down; try again/,
    },
    {
      name: "a session the service ended during a drop (CHANNEL_TIMED_OUT)",
      make: async () => new ChannelError("CHANNEL_TIMED_OUT", "Session: s-1 timed out."),
      message: /timed out/,
      hint: /^the service ended the session while the connection was down; start a new session$/,
    },
    {
      name: "a connection that could not be resumed (CHANNEL_LOST)",
      make: async () => new ChannelError("CHANNEL_LOST", "lost the connection to session s-1"),
      message: /lost the connection/,
      hint: /^check the network/,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const error = await c.make();
      assert.ok(error instanceof RunasError, String(error));
      assert.equal(error.hint, undefined, "the library leaves the hint to the CLI");
      const [line, hint, ...rest] = formatError(error, 0).trimEnd().split("\n");
      assert.match(line ?? "", /^aws-runas: /);
      assert.match((line ?? "").slice("aws-runas: ".length), c.message);
      assert.match((hint ?? "").replace(/^hint: /, ""), c.hint);
      assert.match(hint ?? "", /^hint: /);
      assert.deepEqual(rest, []);
      assert.doesNotMatch(`${line}\n${hint}`, /§|ssm-protocol/);
    });
  }

  test("a hint the error brings wins over the code's", () => {
    const error = new RunasError("LOCAL_PORT_IN_USE", "local port 80 is already in use", {
      hint: "use another -L",
    });
    assert.equal(hintFor(error), "use another -L");
    assert.equal(hintFor(new RunasError("SOMETHING_ELSE", "x")), undefined);
    assert.equal(hintFor(new RunasError("constructor", "x")), undefined, "no prototype keys");
  });
});
