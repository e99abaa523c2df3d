import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { SshFormatError } from "../../packages/aws-runas/src/ssh/errors.js";
import { publicKeyForIdentityFile } from "../../packages/aws-runas/src/ssh/key-file.js";
import { publicKeyFromPrivateKeyText } from "../../packages/aws-runas/src/ssh/private-key.js";
import {
  ec2icRejection,
  fingerprint,
  formatPublicKey,
  keyTypeOfBlob,
  parsePublicKeyText,
  publicKeyFromBlob,
} from "../../packages/aws-runas/src/ssh/public-key.js";
import { sshStrings } from "../../packages/aws-runas/src/ssh/wire.js";
import { type GeneratedKey, generateKey, type KeyType, suiteTempDir } from "./openssh-tools.js";

const run = promisify(execFile);
const TYPES: KeyType[] = ["ed25519", "ecdsa", "rsa"];

describe("public keys from ssh-keygen", () => {
  const dir = suiteTempDir(after);
  const keys = new Map<string, GeneratedKey>();
  before(async () => {
    for (const type of TYPES) {
      keys.set(type, await generateKey(join(dir, type), type, { comment: `me@host ${type}` }));
    }
  });

  for (const type of TYPES) {
    test(`${type}: .pub parses, formats back identically and fingerprints like ssh-keygen -l`, async () => {
      const generated = keys.get(type)!;
      const key = parsePublicKeyText(`${generated.publicLine}\n`);
      assert.equal(key.type, generated.publicLine.split(" ")[0]);
      assert.equal(key.comment, `me@host ${type}`);
      assert.equal(formatPublicKey(key), generated.publicLine);
      const { stdout } = await run("ssh-keygen", ["-l", "-f", `${generated.path}.pub`]);
      assert.equal(fingerprint(key.blob), stdout.split(" ")[1]);
      assert.equal(ec2icRejection(key.type), undefined);
    });
  }

  test("a comment-less line and leading comment lines", () => {
    const line = keys.get("ed25519")!.publicKey;
    const key = parsePublicKeyText(`# my key\n\n${line}\n`);
    assert.equal(key.comment, "");
    assert.equal(formatPublicKey(key), line);
  });

  test("control characters in comments are flattened to one line", () => {
    const blob = parsePublicKeyText(keys.get("ed25519")!.publicKey).blob;
    assert.equal(publicKeyFromBlob(blob, "a\nb\t c\u0007").comment, "a b c");
  });

  test("bad .pub contents are refused with a reason", () => {
    const line = keys.get("ed25519")!.publicKey;
    const [, base64] = line.split(" ");
    const cases: [string, RegExp][] = [
      ["", /no public key/],
      ["ssh-ed25519", /not an OpenSSH public key line/],
      ["ssh-ed25519 !!!", /not an OpenSSH public key line/],
      [`ssh-rsa ${base64}`, /says ssh-rsa but holds a ssh-ed25519 key/],
      [`ssh-ed25519 ${Buffer.from(base64!, "base64").subarray(0, 30).toString("base64")}`, /truncated/],
      ["---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----", /RFC 4716/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parsePublicKeyText(text),
        (e: unknown) => e instanceof SshFormatError && message.test(e.message),
        text,
      );
    }
  });

  test("blob validation per type", () => {
    assert.throws(() => keyTypeOfBlob(sshStrings("ssh-ed25519", Buffer.alloc(31))), /31 bytes, not 32/);
    assert.throws(() => keyTypeOfBlob(sshStrings("ssh-ed25519", Buffer.alloc(32), "x")), /stray bytes/);
    assert.throws(
      () => keyTypeOfBlob(sshStrings("ecdsa-sha2-nistp256", "nistp384", Buffer.from([4, 1]))),
      /names curve nistp384/,
    );
    assert.throws(
      () => keyTypeOfBlob(sshStrings("ssh-rsa", Buffer.from([1, 0, 1]), Buffer.alloc(8))),
      /too short/,
    );
    assert.throws(() => keyTypeOfBlob(Buffer.from([0, 0, 0, 3, 0x20, 0x20])), /truncated/);
    assert.equal(
      keyTypeOfBlob(sshStrings("sk-ssh-ed25519@openssh.com", Buffer.alloc(32), "ssh:")),
      "sk-ssh-ed25519@openssh.com",
    );
  });

  test("types EC2 Instance Connect refuses", () => {
    assert.match(ec2icRejection("ssh-ed25519-cert-v01@openssh.com")!, /certificate/);
    assert.match(ec2icRejection("sk-ssh-ed25519@openssh.com")!, /security keys/);
    assert.match(ec2icRejection("ssh-dss")!, /ssh-dss keys are not accepted/);
  });
});

describe("public key from a private key file", () => {
  const dir = suiteTempDir(after);

  const formats = [
    ...TYPES.map((type) => ({ type, format: "openssh" as const })),
    { type: "ecdsa" as const, format: "PEM" as const },
    { type: "rsa" as const, format: "PEM" as const },
    { type: "ecdsa" as const, format: "PKCS8" as const },
    { type: "rsa" as const, format: "PKCS8" as const },
  ];
  for (const { type, format } of formats) {
    test(`${type} ${format}, unencrypted: same blob as ssh-keygen's .pub`, async () => {
      const key = await generateKey(join(dir, `${type}-${format}`), type, { format });
      const info = publicKeyFromPrivateKeyText(await readFile(key.path, "utf8"));
      assert.equal(info.kind, "public");
      assert.ok(info.kind === "public");
      assert.equal(formatPublicKey({ ...info.key, comment: "" }), key.publicKey);
      assert.equal(info.encrypted, false);
    });
  }

  test("ed25519 PKCS#8: the RFC 8032 test key gives its known public key", () => {
    // RFC 8032 §7.1 TEST 1: secret key 9d61..7f60, public key d75a..511a.
    const der = Buffer.from(
      "302e020100300506032b657004220420" + "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
      "hex",
    );
    const pem = `-----BEGIN PRIVATE KEY-----\n${der.toString("base64")}\n-----END PRIVATE KEY-----\n`;
    const info = publicKeyFromPrivateKeyText(pem);
    assert.ok(info.kind === "public");
    const expected = Buffer.from(
      "0000000b" +
        Buffer.from("ssh-ed25519").toString("hex") +
        "00000020" +
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
      "hex",
    );
    assert.equal(formatPublicKey(info.key), `ssh-ed25519 ${expected.toString("base64")}`);
  });

  test("an encrypted OpenSSH key still gives its public key (stored in clear)", async () => {
    const key = await generateKey(join(dir, "enc-openssh"), "ed25519", { passphrase: "secret words" });
    const info = publicKeyFromPrivateKeyText(await readFile(key.path, "utf8"));
    assert.ok(info.kind === "public");
    assert.equal(info.encrypted, true);
    assert.equal(formatPublicKey({ ...info.key, comment: "" }), key.publicKey);
  });

  for (const format of ["PEM", "PKCS8"] as const) {
    test(`an encrypted ${format} key is reported as encrypted`, async () => {
      const key = await generateKey(join(dir, `enc-${format}`), "rsa", {
        passphrase: "secret words",
        format,
      });
      assert.deepEqual(publicKeyFromPrivateKeyText(await readFile(key.path, "utf8")), { kind: "encrypted" });
    });
  }

  test("not a key at all", () => {
    assert.throws(() => publicKeyFromPrivateKeyText("hello"), /not a PEM or OpenSSH private key/);
    assert.throws(
      () =>
        publicKeyFromPrivateKeyText("-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----\n"),
      /unsupported private key type "DSA PRIVATE KEY"/,
    );
    assert.throws(
      () =>
        publicKeyFromPrivateKeyText(
          `-----BEGIN OPENSSH PRIVATE KEY-----\n${Buffer.from("not-the-magic-at-all").toString("base64")}\n-----END OPENSSH PRIVATE KEY-----\n`,
        ),
      /bad header/,
    );
  });
});

describe("publicKeyForIdentityFile", () => {
  const dir = suiteTempDir(after);

  test("prefers the .pub beside the key (comment included)", async () => {
    const key = await generateKey(join(dir, "with-pub"), "ed25519", { comment: "laptop" });
    const result = await publicKeyForIdentityFile(key.path);
    assert.ok(result.ok);
    assert.equal(formatPublicKey(result.key), key.publicLine);
    assert.equal(result.from, `${key.path}.pub`);
  });

  test("an IdentityFile naming the .pub itself", async () => {
    const key = await generateKey(join(dir, "named-pub"), "ecdsa");
    const result = await publicKeyForIdentityFile(`${key.path}.pub`);
    assert.ok(result.ok);
    assert.equal(formatPublicKey(result.key), key.publicLine);
  });

  test("a passphrase-protected key with a .pub is usable", async () => {
    const key = await generateKey(join(dir, "protected-pub"), "rsa", {
      passphrase: "pw pw pw",
      format: "PEM",
    });
    const result = await publicKeyForIdentityFile(key.path);
    assert.ok(result.ok);
    assert.equal(formatPublicKey(result.key), key.publicLine);
  });

  test("no .pub: derived from an unprotected private key", async () => {
    const key = await generateKey(join(dir, "no-pub"), "rsa", { noPub: true, format: "PEM" });
    const result = await publicKeyForIdentityFile(key.path);
    assert.ok(result.ok);
    assert.equal(formatPublicKey(result.key), key.publicKey);
    assert.equal(result.from, key.path);
  });

  test("no .pub and a protected PEM key: not usable, says why", async () => {
    const key = await generateKey(join(dir, "protected-no-pub"), "rsa", {
      passphrase: "pw pw pw",
      format: "PEM",
      noPub: true,
    });
    assert.deepEqual(await publicKeyForIdentityFile(key.path), {
      ok: false,
      reason: "passphrase-protected and no .pub file beside it",
    });
  });

  test("a broken .pub falls back to the private key", async () => {
    const key = await generateKey(join(dir, "broken-pub"), "ed25519");
    await writeFile(`${key.path}.pub`, "garbage\n");
    const result = await publicKeyForIdentityFile(key.path);
    assert.ok(result.ok);
    assert.equal(formatPublicKey({ ...result.key, comment: "" }), key.publicKey);
  });

  test("missing files, directories and oversized files", async () => {
    assert.deepEqual(await publicKeyForIdentityFile(join(dir, "absent")), { ok: false, reason: "not found" });
    assert.deepEqual(await publicKeyForIdentityFile(join(dir, "absent.pub")), {
      ok: false,
      reason: "not found",
    });
    await mkdir(join(dir, "a-dir"));
    assert.deepEqual(await publicKeyForIdentityFile(join(dir, "a-dir")), {
      ok: false,
      reason: "not a regular file",
    });
    await writeFile(join(dir, "huge"), Buffer.alloc(100_000, 0x41));
    assert.deepEqual(await publicKeyForIdentityFile(join(dir, "huge")), {
      ok: false,
      reason: "larger than 65536 bytes",
    });
  });
});
