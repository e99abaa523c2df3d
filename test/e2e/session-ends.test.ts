/**
 * Issue 14, invariant 1, as a table: for every command (`shell`, `forward`, `ssh`) and every end
 * path — remote exit, stdin closed, SIGINT, SIGTERM, SIGHUP, stdout closed, a session that closes
 * before it is ready, a refused or unreachable destination, a lost connection — the built CLI
 * against the built emulator:
 * - exits with the code the README's end-path table gives, without a signal;
 * - prints at most one `aws-runas:` line (plus a hint), never a stack trace;
 * - terminated the session: the emulator's request log has TerminateSession for that SessionId
 *   (and the TerminateSession flag for port sessions that were still running), and the emulator
 *   says Terminated;
 * - left no process of the session behind on the emulator side (its shell and the shell's
 *   children: they carry the session id in their environment).
 * The `--plugin` end paths (plugin missing or unable to run: no session started; the plugin's
 * exit status and a killed plugin: session terminated) are the per-command table in
 * test/e2e/plugin.test.ts, with a stand-in plugin.
 * Rows run a few at a time; each one starts its own CLI.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type IPty, spawn as spawnPty } from "node-pty";
import { ALICE, INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { closedPort, startBannerServer } from "../emulator/helpers/emulator.js";
import { assertNoChildProcesses, childPids, commandLine, ensureBuilt } from "../reliability/helpers.js";
import { Cleanup, generateKey } from "../ssh/openssh-tools.js";
import {
  connectLocal,
  echoRoundTrip,
  sessionInfo,
  startEchoServer,
  type TestServer,
} from "./helpers/forward.js";
import { CLI, type EmulatorProcess, startEmulatorProcess } from "./helpers/harness.js";
import {
  type CliChild,
  readmeEndPaths,
  type SessionCommand,
  sessionProcesses,
  startCli,
} from "./helpers/session-end.js";
import { NON_INTERACTIVE_SSH_OPTIONS, runProcess, sshdUnavailableReason, startSshd } from "./helpers/sshd.js";
import { pollUntil } from "./helpers/tmux.js";

/** Every process these tests start is gone once the suites closed them. */
after(assertNoChildProcesses);

const END_PATHS = readmeEndPaths();
const CRASH = /^\s+at |triggerUncaughtException|^Node\.js v\d+|Unhandled/m;

interface RequestEntry {
  service: string;
  operation: string;
  status: number;
  sessionId?: string;
  flag?: string;
}

/** What one row ran, for the shared checks. */
interface Ended {
  sessionId: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

interface Row {
  command: SessionCommand;
  /** The README end path (first column) whose exit code applies. */
  path: string;
  name: string;
  /** The one error line expected; without it the row must print no `aws-runas:` line at all. */
  message?: RegExp;
  /** The session was still running when the client ended it: the TerminateSession flag is sent. */
  flag?: boolean;
  /** On the emulator with lost connections (`--fault drop-websocket-after`, `refuse-resume`). */
  faulty?: boolean;
  run(w: World): Promise<Ended>;
}

interface World {
  emulator: EmulatorProcess;
  echo: TestServer;
  /** A port with nothing listening. */
  closed: number;
  /** A server that sends a line and closes each connection (sshd hanging up). */
  banner: number;
  dir: string;
}

let main: World;
let faulty: World;

const shellArgs = (...extra: string[]) => ["ssm", "shell", ...extra, "plain", INSTANCE.web];

/** The session id a shell prints on stderr. */
async function shellSessionId(cli: CliChild): Promise<string> {
  return (await cli.waitStderr(/^Starting session with SessionId: (\S+)$/m))[1]!;
}

/** Waits until the session runs a process matching `command` (the remote side is busy). */
function remoteProcess(sessionId: string, command: RegExp): Promise<number> {
  return pollUntil(
    `a remote ${command} in session ${sessionId}`,
    () => sessionProcesses(sessionId).find((p) => command.test(p.command))?.pid,
  );
}

async function finish(cli: CliChild, sessionId: string): Promise<Ended> {
  const { code, signal } = await cli.exit();
  return { sessionId, code, signal, stderr: cli.stderr() };
}

/**
 * `ssm shell` in a real terminal (node-pty) inside a bash script that records `stty -a` before
 * and after it and its exit status; `pipe` follows the command (e.g. `| head -1`), `act` runs
 * once the session has started. Asserts the terminal is restored.
 */
async function shellInTerminal(
  { emulator, dir: root }: World,
  pipe: string,
  act: (pty: IPty, sessionId: string) => Promise<void>,
): Promise<Ended> {
  const dir = mkdtempSync(join(root, "tty-"));
  const file = (name: string) => join(dir, name);
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  writeFileSync(
    file("run.sh"),
    [
      `stty -a > ${q(file("before"))}`,
      `${q(process.execPath)} ${q(CLI)} ${shellArgs().join(" ")} ${pipe}`,
      `echo "\${PIPESTATUS[0]}" > ${q(file("status"))}`,
      `stty -a > ${q(file("after"))}`,
      "",
    ].join("\n"),
  );
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(emulator.env)) if (v !== undefined) env[k] = v;
  const pty = spawnPty("/bin/bash", ["--noprofile", "--norc", file("run.sh")], {
    name: "xterm",
    cols: 100,
    rows: 30,
    cwd: dir,
    env: { ...env, TERM: "xterm" },
  });
  let output = "";
  let acting: Promise<void> | undefined;
  const exited = new Promise<void>((resolve) => pty.onExit(() => resolve()));
  pty.onData((d) => {
    output += d;
    const id = /Starting session with SessionId: (\S+)/.exec(output)?.[1];
    if (id && !acting) acting = act(pty, id);
  });
  const timer = setTimeout(() => pty.kill("SIGKILL"), 20_000);
  await exited;
  clearTimeout(timer);
  await acting;
  const id = /Starting session with SessionId: (\S+)/.exec(output)?.[1];
  assert.ok(id, `no session started: ${output}`);
  const settings = (name: string) =>
    readFileSync(file(name), "utf8").replace(/rows \d+; columns \d+;/, "rows R; columns C;");
  assert.equal(settings("after"), settings("before"), "the terminal is restored");
  const code = Number(readFileSync(file("status"), "utf8").trim());
  // The terminal shows stderr and stdout together: keep the client's own lines, escapes removed.
  const stderr = output
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "")
    .split(/\r?\n|\r/)
    .filter((l) => /aws-runas|hint:|^\s+at /.test(l))
    .join("\n");
  return { sessionId: id, code, signal: null, stderr };
}

/** A shell that runs `command`, then gets `signal`. */
function shellSignalled(signal: NodeJS.Signals): Row["run"] {
  return async ({ emulator }) => {
    const cli = startCli(shellArgs(), emulator.env);
    const id = await shellSessionId(cli);
    cli.child.stdin!.write("sleep 300\n");
    await remoteProcess(id, /^sleep 300$/);
    cli.child.kill(signal);
    return finish(cli, id);
  };
}

/**
 * `ssm forward` to the echo server (or `target`); resolves once it listens, with its port. With
 * `--no-reconnect`: these rows are about how a session ends; a forward that heals instead (the
 * default) is test/e2e/forward-heal.test.ts.
 */
async function startForwardCli(
  w: World,
  args: string[],
): Promise<{ cli: CliChild; id: string; port: number }> {
  const cli = startCli(["ssm", "forward", "--no-reconnect", ...args], w.emulator.env);
  const m = await cli.waitStderr(/^Port (\d+) opened for sessionId (\S+)\.$/m);
  return { cli, id: m[2]!, port: Number(m[1]) };
}

/** A forward with one echo round trip through it (the session is running), then `signal`. */
function forwardSignalled(signal: NodeJS.Signals, closeStdinFirst = false): Row["run"] {
  return async (w) => {
    const { cli, id, port } = await startForwardCli(w, ["plain", `${INSTANCE.web}:${w.echo.port}`]);
    if (closeStdinFirst) cli.child.stdin!.end();
    const socket = await connectLocal(port);
    const r = await echoRoundTrip(socket, 64 * 1024);
    assert.equal(r.received, r.sent);
    socket.destroy();
    cli.child.kill(signal);
    return finish(cli, id);
  };
}

/**
 * `ssm ssh` as ssh would run it, to `port`; the session id is found by its port (every ssh row
 * uses its own destination port, so rows running at the same time cannot be confused).
 */
async function startSshCli(w: World, port: number): Promise<{ cli: CliChild; id: () => Promise<string> }> {
  const cli = startCli(["ssm", "ssh", "plain", `root@${INSTANCE.web}:${port}`], w.emulator.env);
  const id = () =>
    pollUntil(`the ssh session to port ${port}`, async () => {
      const sessions = (await w.emulator.admin("/_emulator/sessions")) as Array<{
        sessionId: string;
        documentName: string;
        parameters: Record<string, string>;
      }>;
      return sessions.find(
        (s) => s.documentName === "AWS-StartSSHSession" && s.parameters.portNumber === String(port),
      )?.sessionId;
    });
  return { cli, id };
}

/** An ssh proxy to its own echo server, with bytes flowing both ways, then `act`. */
function sshRunning(act: (cli: CliChild) => void): Row["run"] {
  return async (w) => {
    const echo = await startEchoServer();
    try {
      const { cli, id } = await startSshCli(w, echo.port);
      cli.child.stdin!.write("ping-1\n");
      await cli.waitStdout(/ping-1\n/);
      const sessionId = await id();
      act(cli);
      return await finish(cli, sessionId);
    } finally {
      await echo.close();
    }
  };
}

const ROWS: Row[] = [
  // ---- shell ----
  {
    command: "shell",
    path: "remote exit",
    name: "the remote shell exits (exit typed, stdin still open)",
    async run({ emulator }) {
      const cli = startCli(shellArgs(), emulator.env);
      const id = await shellSessionId(cli);
      cli.child.stdin!.write("echo before-exit\nexit\n");
      return finish(cli, id);
    },
  },
  {
    command: "shell",
    path: "stdin closed",
    name: "piped input ends while a command runs",
    async run({ emulator }) {
      const cli = startCli(shellArgs(), emulator.env);
      const id = await shellSessionId(cli);
      cli.child.stdin!.end("sleep 1\necho done\n");
      return finish(cli, id);
    },
  },
  {
    command: "shell",
    path: "remote exit",
    name: "SIGINT interrupts the remote command only; exit then ends the session",
    async run({ emulator }) {
      const cli = startCli(shellArgs(), emulator.env);
      const id = await shellSessionId(cli);
      cli.child.stdin!.write("sleep 300\n");
      const sleeper = await remoteProcess(id, /^sleep 300$/);
      cli.child.kill("SIGINT");
      await pollUntil("the remote sleep to be interrupted", () =>
        sessionProcesses(id).some((p) => p.pid === sleeper) ? undefined : true,
      );
      assert.equal(cli.child.exitCode, null, "the client keeps running after SIGINT");
      cli.child.stdin!.write("exit\n");
      return finish(cli, id);
    },
  },
  {
    command: "shell",
    path: "SIGTERM",
    name: "SIGTERM",
    message: /received SIGTERM: session \S+ was terminated/,
    run: shellSignalled("SIGTERM"),
  },
  {
    command: "shell",
    path: "SIGHUP",
    name: "SIGHUP",
    message: /received SIGHUP: session \S+ was terminated/,
    run: shellSignalled("SIGHUP"),
  },
  {
    command: "shell",
    path: "stdout closed",
    name: "stdout closed while `yes` floods it",
    async run({ emulator }) {
      const cli = startCli(shellArgs(), emulator.env);
      const id = await shellSessionId(cli);
      cli.child.stdin!.write("yes\n");
      await remoteProcess(id, /^yes$/);
      await cli.waitStdoutBytes(64 * 1024);
      cli.child.stdout!.destroy();
      return finish(cli, id);
    },
  },
  {
    command: "shell",
    path: "stdout closed",
    name: "stdout closed under an interactive command (command=yes)",
    async run({ emulator }) {
      const cli = startCli(
        shellArgs("--document", "AWS-StartInteractiveCommand", "--parameter", "command=yes"),
        emulator.env,
      );
      const id = await shellSessionId(cli);
      await cli.waitStdoutBytes(64 * 1024);
      cli.child.stdout!.destroy();
      return finish(cli, id);
    },
  },
  {
    command: "shell",
    path: "stdout closed",
    name: "stdout closed with a terminal on stdin (`| head -1`): the terminal is restored",
    run: (w) =>
      shellInTerminal(w, "| head -1", async (pty) => {
        // The remote prompt is not a whole line, so head waits: the first line is the echo.
        pty.write("yes\r");
      }),
  },
  {
    command: "shell",
    path: "SIGTERM",
    name: "SIGTERM with a terminal: the terminal is restored",
    message: /received SIGTERM: session \S+ was terminated/,
    run: (w) =>
      shellInTerminal(w, "", async (pty, id) => {
        pty.write("sleep 300\r");
        await remoteProcess(id, /^sleep 300$/);
        const cli = childPids(pty.pid).find((pid) => commandLine(pid).includes(CLI));
        assert.ok(cli, "the CLI runs in the terminal");
        process.kill(cli, "SIGTERM");
      }),
  },
  {
    command: "shell",
    path: "closed before ready",
    name: "an interactive command that prints nothing (command=true)",
    async run({ emulator }) {
      const cli = startCli(
        shellArgs("--document", "AWS-StartInteractiveCommand", "--parameter", "command=true"),
        emulator.env,
      );
      const id = await shellSessionId(cli);
      return finish(cli, id);
    },
  },
  {
    command: "shell",
    path: "closed before ready",
    name: "an interactive command that prints nothing for a while (command=sleep 1)",
    async run({ emulator }) {
      const cli = startCli(
        shellArgs("--document", "AWS-StartInteractiveCommand", "--parameter", "command=sleep 1"),
        emulator.env,
      );
      const id = await shellSessionId(cli);
      return finish(cli, id);
    },
  },
  {
    command: "shell",
    path: "error",
    name: "the connection is lost and ResumeSession refused",
    faulty: true,
    message: /timed out|lost the connection/,
    async run({ emulator }) {
      const cli = startCli(shellArgs(), emulator.env);
      const id = await shellSessionId(cli);
      cli.child.stdin!.write("seq 1 200000\n");
      return finish(cli, id);
    },
  },

  // ---- forward ----
  {
    command: "forward",
    path: "remote exit",
    name: "the session is terminated elsewhere (TerminateSession by another client)",
    async run(w) {
      const { cli, id, port } = await startForwardCli(w, ["plain", `${INSTANCE.web}:${w.echo.port}`]);
      const socket = await connectLocal(port);
      assert.equal((await echoRoundTrip(socket, 1024)).bytes, 1024);
      socket.destroy();
      // Loaded here, quietly: the SDK's Node-version notice is noise in a test's output.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
      const { SSMClient, TerminateSessionCommand } = await import("@aws-sdk/client-ssm");
      const ssm = new SSMClient({
        endpoint: w.emulator.exports.AWS_ENDPOINT_URL,
        region: w.emulator.exports.AWS_REGION,
        credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey },
        maxAttempts: 1,
      });
      try {
        await ssm.send(new TerminateSessionCommand({ SessionId: id }));
      } finally {
        ssm.destroy();
      }
      return finish(cli, id);
    },
  },
  {
    command: "forward",
    path: "SIGINT",
    name: "stdin closed is not an end: the forward serves on until SIGINT",
    flag: true,
    run: forwardSignalled("SIGINT", true),
  },
  {
    command: "forward",
    path: "SIGINT",
    name: "SIGINT (Ctrl-C)",
    flag: true,
    run: forwardSignalled("SIGINT"),
  },
  { command: "forward", path: "SIGTERM", name: "SIGTERM", flag: true, run: forwardSignalled("SIGTERM") },
  { command: "forward", path: "SIGHUP", name: "SIGHUP", flag: true, run: forwardSignalled("SIGHUP") },
  {
    command: "forward",
    path: "refused destination",
    name: "basic mode (old agent), nothing listens on the destination port",
    message:
      /session \S+ ended: Unable to start port, dial tcp 127\.0\.0\.1:\d+: connect: connection refused/,
    async run(w) {
      const { cli, id } = await startForwardCli(w, ["plain", `${INSTANCE.legacy}:${w.closed}`]);
      return finish(cli, id);
    },
  },
  {
    command: "forward",
    path: "refused destination",
    // A name the instance cannot resolve fails each connection (ConnectToPortError) and the
    // session goes on, as with the real agent; an address the agent refuses ends the session.
    name: "--host that the agent refuses (a denied address)",
    message: /session \S+ ended: Forwarding to IP address 169\.254\.169\.254 is forbidden/,
    async run(w) {
      const { cli, id } = await startForwardCli(w, [
        "--host",
        "169.254.169.254",
        "plain",
        `${INSTANCE.web}:80`,
      ]);
      return finish(cli, id);
    },
  },
  {
    command: "forward",
    path: "error",
    name: "the connection is lost and ResumeSession refused",
    faulty: true,
    message: /timed out|lost the connection/,
    async run(w) {
      const { cli, id, port } = await startForwardCli(w, ["plain", `${INSTANCE.web}:${w.echo.port}`]);
      const socket: Socket = await connectLocal(port);
      socket.on("error", () => {});
      // Enough traffic for the drop; the round trip itself may fail with the session.
      await echoRoundTrip(socket, 1024 * 1024, 20_000).catch(() => {});
      const ended = await finish(cli, id);
      socket.destroy();
      return ended;
    },
  },

  // ---- --plugin ----
  // Covered per command (shell, forward, ssh) in test/e2e/plugin.test.ts.

  // ---- ssh ----
  {
    command: "ssh",
    path: "remote exit",
    name: "the remote side closes the connection (sshd hangs up)",
    async run(w) {
      const { cli, id } = await startSshCli(w, w.banner);
      await cli.waitStdout(/SSH-2\.0-banner/);
      return finish(cli, await id());
    },
  },
  {
    command: "ssh",
    path: "stdin closed",
    name: "ssh closes stdin",
    flag: true,
    run: sshRunning((cli) => cli.child.stdin!.end()),
  },
  {
    command: "ssh",
    path: "SIGINT",
    name: "SIGINT",
    flag: true,
    run: sshRunning((cli) => cli.child.kill("SIGINT")),
  },
  {
    command: "ssh",
    path: "SIGTERM",
    name: "SIGTERM",
    flag: true,
    run: sshRunning((cli) => cli.child.kill("SIGTERM")),
  },
  {
    command: "ssh",
    path: "SIGHUP",
    name: "SIGHUP (what ssh sends its ProxyCommand when it exits)",
    flag: true,
    run: sshRunning((cli) => cli.child.kill("SIGHUP")),
  },
  {
    command: "ssh",
    path: "stdout closed",
    name: "stdout closed while data flows",
    flag: true,
    run: sshRunning((cli) => {
      cli.child.stdout!.destroy();
      // Keep the echo coming back until the client notices.
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      const timer = setInterval(() => cli.child.stdin!.write(chunk), 20);
      cli.child.once("exit", () => clearInterval(timer));
    }),
  },
  {
    command: "ssh",
    path: "refused destination",
    name: "nothing listens on the port: exit at once, no hang",
    message:
      /session \S+ ended: Unable to start port, dial tcp 127\.0\.0\.1:\d+: connect: connection refused/,
    async run(w) {
      const port = await closedPort();
      const { cli, id } = await startSshCli(w, port);
      cli.child.stdin!.write("SSH-2.0-client\r\n");
      const ended = await finish(cli, await id());
      return ended;
    },
  },
  {
    command: "ssh",
    path: "error",
    name: "the connection is lost and ResumeSession refused",
    faulty: true,
    message: /timed out|lost the connection/,
    async run(w) {
      const echo = await startEchoServer();
      try {
        const { cli, id } = await startSshCli(w, echo.port);
        const chunk = Buffer.alloc(16 * 1024, 0x62);
        const timer = setInterval(() => cli.child.stdin!.write(chunk), 10);
        cli.child.once("exit", () => clearInterval(timer));
        const sessionId = await id();
        return await finish(cli, sessionId);
      } finally {
        await echo.close();
      }
    },
  },
];

async function startWorld(
  args: string[],
  dir: string,
  t: { after: (fn: () => unknown) => void },
): Promise<World> {
  const [emulator, echo, closed] = await Promise.all([
    startEmulatorProcess(args),
    startEchoServer(),
    closedPort(),
  ]);
  const banner = await startBannerServer(t, "SSH-2.0-banner\r\n");
  t.after(async () => {
    await echo.close();
    await emulator.close();
  });
  return { emulator, echo, closed, banner: banner.port, dir };
}

describe("every end path terminates the session, leaves nothing behind, and exits as the README says", {
  concurrency: 4,
}, () => {
  let dir: string;
  const cleanups: Array<() => unknown> = [];
  before(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), "runas-ends-"));
    const t = { after: (fn: () => unknown) => cleanups.push(fn) };
    [main, faulty] = await Promise.all([
      startWorld([], dir, t),
      startWorld(["--fault", "refuse-resume", "--fault", "drop-websocket-after=40"], dir, t),
    ]);
  });
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the README table has a cell for every row of this test", () => {
    for (const row of ROWS) {
      const cell = END_PATHS.get(row.path)?.[row.command];
      assert.equal(typeof cell, "number", `README exit code for ${row.command} × ${row.path}: ${cell}`);
    }
    // Shell's Ctrl-C goes to the remote side: not an end path (the row above checks it).
    assert.match(String(END_PATHS.get("SIGINT")?.shell), /^—$/);
  });

  for (const row of ROWS) {
    test(`${row.command} × ${row.path}: ${row.name}`, async () => {
      const w = row.faulty ? faulty : main;
      const ended = await row.run(w);
      const expected = END_PATHS.get(row.path)?.[row.command];
      assert.equal(ended.signal, null, `exited by a signal; stderr:\n${ended.stderr}`);
      assert.equal(ended.code, expected, `exit code (README: ${expected}); stderr:\n${ended.stderr}`);

      assert.doesNotMatch(ended.stderr, CRASH, "no stack trace");
      const lines = ended.stderr.split(/\r?\n/);
      const errors = lines.filter((l) => l.startsWith("aws-runas: "));
      if (row.message) {
        assert.equal(errors.length, 1, `one error line, got:\n${ended.stderr}`);
        assert.match(errors[0]!, row.message);
        const next = lines[lines.indexOf(errors[0]!) + 1] ?? "";
        const extra = lines.filter((l) => l.startsWith("hint: "));
        assert.ok(extra.length === 0 || (extra.length === 1 && next.startsWith("hint: ")), ended.stderr);
      } else {
        assert.deepEqual(errors, [], `no error line, got:\n${ended.stderr}`);
      }

      const entries = (await w.emulator.admin("/_emulator/requests")) as RequestEntry[];
      const mine = entries.filter((e) => e.sessionId === ended.sessionId);
      assert.ok(
        mine.some((e) => e.operation === "TerminateSession" && e.status === 200),
        `TerminateSession for ${ended.sessionId}: ${JSON.stringify(mine)}`,
      );
      if (row.flag) {
        assert.ok(
          mine.some((e) => e.operation === "Flag" && e.flag === "TerminateSession"),
          `the TerminateSession flag for ${ended.sessionId}: ${JSON.stringify(mine)}`,
        );
      }
      assert.equal((await sessionInfo(w.emulator, ended.sessionId))?.state, "Terminated");
      await pollUntil(
        `no process left of session ${ended.sessionId}`,
        () => (sessionProcesses(ended.sessionId).length === 0 ? true : undefined),
        10_000,
      ).catch(() => {
        throw new Error(
          `processes left: ${JSON.stringify(sessionProcesses(ended.sessionId))} of session ${ended.sessionId}`,
        );
      });
    });
  }
});

describe("a real ssh client ending its ProxyCommand terminates the session", {
  skip: sshdUnavailableReason(),
}, () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  test("ssh runs a command and exits: the orphaned proxy terminates the session and exits too", async () => {
    ensureBuilt();
    const emulator = await startEmulatorProcess();
    cleanup.after(() => emulator.close());
    const home = mkdtempSync(join(tmpdir(), "runas-ends-ssh-"));
    cleanup.after(() => rmSync(home, { recursive: true, force: true }));
    const key = await generateKey(join(home, "id_e2e"), "ed25519");
    const sshd = await startSshd(cleanup, { authorizedKeys: [key.publicLine] });
    const proxy = `${process.execPath} ${CLI} ssm ssh plain %r@%h:%p`;
    const r = await runProcess(
      "ssh",
      [
        ...NON_INTERACTIVE_SSH_OPTIONS,
        "-F",
        "/dev/null",
        "-i",
        key.path,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        `ProxyCommand=${proxy}`,
        "-p",
        String(sshd.port),
        `${sshd.user}@${INSTANCE.web}`,
        "echo over-ssh",
      ],
      { env: { ...emulator.env, HOME: home }, timeoutMs: 30_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), "over-ssh\n");
    assert.doesNotMatch(r.stderr, /aws-runas:/, "the proxy stays quiet when ssh hangs it up");
    const sessions = (await emulator.admin("/_emulator/sessions")) as Array<{ sessionId: string }>;
    assert.equal(sessions.length, 1);
    const id = sessions[0]!.sessionId;
    // ssh does not wait for its ProxyCommand: the proxy finishes on its own, promptly.
    await pollUntil("TerminateSession from the proxy", async () => {
      const entries = (await emulator.admin("/_emulator/requests")) as RequestEntry[];
      return entries.some((e) => e.operation === "TerminateSession" && e.sessionId === id) ? true : undefined;
    });
    assert.equal((await sessionInfo(emulator, id))?.state, "Terminated");
    await pollUntil("the proxy to exit", () =>
      processesMatching((cmd) => cmd.includes(CLI) && cmd.includes(`:${sshd.port}`)).length === 0
        ? true
        : undefined,
    );
  });
});

/** Live processes of this machine whose command line satisfies `match`. */
function processesMatching(match: (commandLine: string) => boolean): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${entry}/stat`, "utf8"))) continue;
      if (match(readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ")))
        found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}
