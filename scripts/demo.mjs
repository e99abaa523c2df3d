// The README demo: starts the bundled emulator, then opens a real SSM shell session through the
// whole stack (credentials, target resolution by tag, StartSession, websocket, agent, pty).
// Interactive when run in a terminal; with piped or no stdin it runs two commands and exits.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const root = new URL("..", import.meta.url).pathname;
const emulator = spawn(process.execPath, [`${root}packages/emulator/dist/aws-runas-emulator.js`], {
  stdio: ["ignore", "pipe", "inherit"],
});
const stopEmulator = () => emulator.kill("SIGTERM");
process.on("exit", stopEmulator);

const env = { ...process.env };
const lines = createInterface({ input: emulator.stdout });
const ready = new Promise((resolve, reject) => {
  emulator.once("exit", (code) => reject(new Error(`emulator exited early (${code})`)));
  lines.on("line", (line) => {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2].replace(/^'(.*)'$/, "$1");
    if (
      env.AWS_ENDPOINT_URL &&
      env.AWS_CONFIG_FILE &&
      env.AWS_SHARED_CREDENTIALS_FILE &&
      env.RUNAS_DNS_SERVERS
    ) {
      resolve();
    }
  });
});
await ready;

const interactive = process.stdin.isTTY === true;
const args = [`${root}packages/aws-runas/dist/aws-runas.js`, "ssm", "shell", "plain", "Name:web"];
console.error(`$ aws-runas ${args.slice(1).join(" ")}${interactive ? "   (type exit to leave)" : ""}`);
const client = spawn(process.execPath, args, {
  env,
  stdio: [interactive ? "inherit" : "pipe", "inherit", "inherit"],
});
if (!interactive) client.stdin.end("echo hello from $(hostname) via the emulator\nexit\n");
client.on("exit", (code) => {
  stopEmulator();
  process.exitCode = code ?? 1;
});
