import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createLogger } from "@aws-runas/wire/log.js";
import {
  type DiscoveredKey,
  discoverPublicKey,
  type KeyDiscoveryOptions,
} from "../../packages/aws-runas/src/ssh/discover.js";
import { NoUsableKeyError } from "../../packages/aws-runas/src/ssh/errors.js";
import { type After, generateKey, startAgent, startFakeAgent, tempDir } from "./openssh-tools.js";

/** A fresh HOME with an empty ~/.ssh. */
async function home(t: After): Promise<{ home: string; ssh: string }> {
  const dir = await tempDir(t, "runas-home-");
  const ssh = join(dir, ".ssh");
  await mkdir(ssh, { mode: 0o700 });
  return { home: dir, ssh };
}

function discover(h: string, extra: Partial<KeyDiscoveryOptions> = {}, env: Record<string, string> = {}) {
  return discoverPublicKey({
    host: "i-0123456789abcdef0",
    remoteUser: "ec2-user",
    env: { HOME: h, ...env },
    ...extra,
  });
}

async function noKey(promise: Promise<DiscoveredKey>): Promise<NoUsableKeyError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof NoUsableKeyError, String(error));
    return error;
  }
  assert.fail("expected NoUsableKeyError");
}

describe("discoverPublicKey: order of preference", () => {
  test("IdentityFile for the host beats ssh-agent and the default keys", async (t) => {
    const { home: h, ssh } = await home(t);
    const work = await generateKey(join(ssh, "work"), "ed25519", { comment: "work" });
    await generateKey(join(ssh, "id_ed25519"), "ed25519");
    const agent = await startAgent(t);
    const agentKey = await generateKey(join(ssh, "agent-only"), "ed25519");
    await agent.add(agentKey.path);
    await writeFile(
      join(ssh, "config"),
      "Host web\n  IdentityFile ~/.ssh/other\nHost i-*\n  IdentityFile ~/.ssh/work\n",
    );
    const found = await discover(h, {}, { SSH_AUTH_SOCK: agent.socket });
    assert.deepEqual(
      [found.source, found.origin, found.publicKey],
      ["identity-file", "~/.ssh/work", work.publicLine],
    );
    assert.match(found.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  test("ssh-agent beats the default keys when no IdentityFile applies", async (t) => {
    const { home: h, ssh } = await home(t);
    await generateKey(join(ssh, "id_ed25519"), "ed25519");
    const agent = await startAgent(t);
    const agentKey = await generateKey(join(ssh, "in-agent"), "ecdsa", { comment: "in agent" });
    await agent.add(agentKey.path);
    await writeFile(join(ssh, "config"), "Host web\n  IdentityFile ~/.ssh/web\n");
    const found = await discover(h, {}, { SSH_AUTH_SOCK: agent.socket });
    assert.deepEqual(
      [found.source, found.origin, found.publicKey],
      ["agent", "ssh-agent (in agent)", agentKey.publicLine],
    );
  });

  test("default keys in order id_ed25519, id_ecdsa, id_rsa; protected PEM without .pub is passed over", async (t) => {
    const { home: h, ssh } = await home(t);
    await generateKey(join(ssh, "id_ecdsa"), "ecdsa", {
      passphrase: "pass phrase",
      format: "PEM",
      noPub: true,
    });
    const rsa = await generateKey(join(ssh, "id_rsa"), "rsa");
    const found = await discover(h);
    assert.deepEqual(
      [found.source, found.origin, found.publicKey],
      ["default-file", "~/.ssh/id_rsa", rsa.publicLine],
    );
    const ed = await generateKey(join(ssh, "id_ed25519"), "ed25519");
    assert.equal((await discover(h)).publicKey, ed.publicLine);
  });

  test("a passphrase-protected IdentityFile with a .pub is pushed (the .pub's key)", async (t) => {
    const { home: h, ssh } = await home(t);
    const key = await generateKey(join(ssh, "protected"), "rsa", {
      passphrase: "pass phrase",
      format: "PEM",
    });
    await writeFile(join(ssh, "config"), "Host *\n  IdentityFile %d/.ssh/protected\n");
    const found = await discover(h);
    assert.deepEqual([found.source, found.publicKey], ["identity-file", key.publicLine]);
  });

  test("unusable IdentityFile entries fall through to the agent", async (t) => {
    const { home: h, ssh } = await home(t);
    await generateKey(join(ssh, "locked"), "rsa", { passphrase: "pass phrase", format: "PEM", noPub: true });
    const agent = await startAgent(t);
    const agentKey = await generateKey(join(ssh, "agent"), "ed25519");
    await agent.add(agentKey.path);
    await writeFile(
      join(ssh, "config"),
      "Host i-*\n  IdentityFile ~/.ssh/missing\n  IdentityFile ~/.ssh/locked\n",
    );
    const found = await discover(h, {}, { SSH_AUTH_SOCK: agent.socket });
    assert.equal(found.source, "agent");
    assert.equal(found.key.type, "ssh-ed25519");
  });

  test("tokens in IdentityFile: %r and %h", async (t) => {
    const { home: h, ssh } = await home(t);
    const key = await generateKey(join(ssh, "ec2-user@i-0123456789abcdef0"), "ed25519");
    await writeFile(join(ssh, "config"), "Host *\n  IdentityFile ~/.ssh/%r@%h\n");
    assert.equal((await discover(h)).publicKey, key.publicLine);
  });

  test("a Host alias whose HostName is the target supplies its IdentityFile", async (t) => {
    const { home: h, ssh } = await home(t);
    const key = await generateKey(join(ssh, "web"), "ed25519");
    await generateKey(join(ssh, "id_ed25519"), "ed25519");
    await writeFile(
      join(ssh, "config"),
      "Host web\n  HostName i-0123456789abcdef0\n  IdentityFile ~/.ssh/web\n",
    );
    const lines: string[] = [];
    const found = await discover(h, { logger: createLogger(1, (l) => lines.push(l)) });
    assert.deepEqual([found.origin, found.publicKey], ["~/.ssh/web", key.publicLine]);
    assert.ok(
      lines.some((l) => l.includes("Host web has HostName i-0123456789abcdef0")),
      lines.join("\n"),
    );
  });

  test("the config path and HOME are injectable", async (t) => {
    const { home: h, ssh } = await home(t);
    const key = await generateKey(join(ssh, "custom"), "ed25519");
    const other = join(h, "elsewhere.cfg");
    await writeFile(other, `Host *\n  IdentityFile ${join(ssh, "custom")}\n`);
    assert.equal((await discover(h, { sshConfigPath: other })).publicKey, key.publicLine);
    const error = await noKey(discover(h));
    assert.ok(error.message.includes("~/.ssh/id_ed25519 (not found)"));
  });

  test("IdentityAgent in the config picks the agent socket; `none` turns it off", async (t) => {
    const { home: h, ssh } = await home(t);
    const agent = await startAgent(t);
    const agentKey = await generateKey(join(ssh, "a"), "ed25519");
    await agent.add(agentKey.path);
    await writeFile(join(ssh, "config"), `Host i-*\n  IdentityAgent ${agent.socket}\n`);
    assert.equal((await discover(h)).source, "agent");
    await writeFile(join(ssh, "config"), "Host i-*\n  IdentityAgent none\n");
    const error = await noKey(discover(h, {}, { SSH_AUTH_SOCK: agent.socket }));
    assert.ok(error.tried.includes("ssh-agent (IdentityAgent none)"), error.message);
  });
});

describe("discoverPublicKey: the name ssh was given (--ssh-host %n)", () => {
  const readmeConfig =
    "Host web.prod\n  ProxyCommand aws-runas ssm ssh --ec2ic p %r@Name:web:%p\n  IdentityFile ~/.ssh/%n-key\n";

  test("Host blocks are matched against the alias, and %n / %h in IdentityFile expand to it", async (t) => {
    const { home: h, ssh } = await home(t);
    const key = await generateKey(join(ssh, "web.prod-key"), "ed25519");
    await generateKey(join(ssh, "id_ed25519"), "ed25519");
    await writeFile(join(ssh, "config"), readmeConfig);
    const found = await discover(h, { host: "Name:web", alias: "web.prod" });
    assert.deepEqual(
      [found.source, found.origin, found.publicKey],
      ["identity-file", "~/.ssh/web.prod-key", key.publicLine],
    );
  });

  test("without the alias the target's Host blocks are searched, and the message and hint say so", async (t) => {
    const { home: h, ssh } = await home(t);
    await writeFile(join(ssh, "config"), readmeConfig);
    const error = await noKey(discover(h, { host: "Name:web" }));
    assert.equal(error.tried[0], '~/.ssh/config (no IdentityFile for Host "Name:web")');
    assert.match(
      error.hint ?? "",
      /^if your ssh Host alias is not the target, add --ssh-host %n to the ProxyCommand; or /,
    );
    // With the alias given and still nothing, the hint does not suggest it again.
    const withAlias = await noKey(discover(h, { host: "Name:web", alias: "other.prod" }));
    assert.equal(withAlias.tried[0], '~/.ssh/config (no IdentityFile for Host "other.prod")');
    assert.doesNotMatch(withAlias.hint ?? "", /--ssh-host/);
  });
});

describe("discoverPublicKey: nothing usable", () => {
  test("the one-line message lists everything tried, in order", async (t) => {
    const { home: h } = await home(t);
    const error = await noKey(discover(h));
    assert.equal(
      error.message,
      "no SSH public key to push with EC2 Instance Connect; tried ~/.ssh/config (not found), " +
        "ssh-agent (SSH_AUTH_SOCK not set), " +
        "~/.ssh/id_ed25519 (not found), ~/.ssh/id_ecdsa (not found), ~/.ssh/id_rsa (not found)",
    );
    assert.equal(error.code, "EC2IC_NO_KEY");
    assert.equal(error.exitCode, 1);
    assert.match(error.hint ?? "", /IdentityFile/);
    assert.ok(!error.message.includes("\n"));
  });

  test("with IdentityFile entries: their reasons, the agent's, and why defaults were not used", async (t) => {
    const { home: h, ssh } = await home(t);
    await generateKey(join(ssh, "locked"), "rsa", { passphrase: "pass phrase", format: "PEM", noPub: true });
    await generateKey(join(ssh, "id_ed25519"), "ed25519");
    const emptyAgent = await startAgent(t);
    await writeFile(
      join(ssh, "config"),
      "Host i-*\n  IdentityFile ~/.ssh/locked\n  IdentityFile ~/.ssh/gone\n  IdentityFile /k/%C\n",
    );
    const error = await noKey(discover(h, {}, { SSH_AUTH_SOCK: emptyAgent.socket }));
    assert.deepEqual(error.tried, [
      "IdentityFile ~/.ssh/locked (passphrase-protected and no .pub file beside it)",
      "IdentityFile ~/.ssh/gone (not found)",
      'IdentityFile /k/%C (unsupported token %C in "/k/%C")',
      "ssh-agent (holds no keys)",
      "default keys ~/.ssh/id_* (ssh does not offer them when an IdentityFile applies)",
    ]);
  });

  test("IdentitiesOnly yes skips the agent", async (t) => {
    const { home: h, ssh } = await home(t);
    const agent = await startAgent(t);
    const agentKey = await generateKey(join(ssh, "a"), "ed25519");
    await agent.add(agentKey.path);
    await writeFile(join(ssh, "config"), "IdentitiesOnly yes\n");
    const error = await noKey(discover(h, {}, { SSH_AUTH_SOCK: agent.socket }));
    assert.equal(error.tried[0], '~/.ssh/config (no IdentityFile for Host "i-0123456789abcdef0")');
    assert.equal(error.tried[1], "ssh-agent (skipped: IdentitiesOnly yes)");
  });

  test("agent keys EC2 Instance Connect refuses, and an unreachable agent", async (t) => {
    const { home: h } = await home(t);
    const cert = Buffer.from("\0\0\0\x20ssh-ed25519-cert-v01@openssh.com\0\0\0\x01x", "latin1");
    const body = Buffer.concat([
      Buffer.from([12, 0, 0, 0, 1, 0, 0, 0, cert.length]),
      cert,
      Buffer.from([0, 0, 0, 0]),
    ]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const socket = await startFakeAgent(t, (s) => s.write(Buffer.concat([len, body])));
    const error = await noKey(discover(h, {}, { SSH_AUTH_SOCK: socket }));
    assert.equal(
      error.tried[1],
      "ssh-agent (ssh-ed25519-cert-v01@openssh.com is a certificate, not a plain key)",
    );
    const gone = await noKey(discover(h, {}, { SSH_AUTH_SOCK: join(h, "no.sock") }));
    assert.equal(gone.tried[1], `ssh-agent (cannot talk to ssh-agent at ${join(h, "no.sock")} (ENOENT))`);
  });
});
