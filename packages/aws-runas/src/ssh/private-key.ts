/**
 * The public half of a private key file, read without the passphrase where the format allows:
 * OpenSSH's own format (`openssh-key-v1`) stores the public key in the clear even when the
 * private part is encrypted; unencrypted PEM / PKCS#8 keys go through node:crypto. Values in,
 * values out (no file access here).
 */
import { createPublicKey, type JsonWebKey } from "node:crypto";
import { SshFormatError } from "./errors.js";
import { type PublicKey, publicKeyFromBlob } from "./public-key.js";
import { mpintBody, SshReader, sshStrings } from "./wire.js";

/** What a private key file tells about its public key. */
export type PrivateKeyInfo =
  /** The public key is known; `encrypted` says whether ssh will need a passphrase (or an agent). */
  | { readonly kind: "public"; readonly key: PublicKey; readonly encrypted: boolean }
  /** Passphrase-protected PEM: the public key cannot be read without the passphrase. */
  | { readonly kind: "encrypted" };

const OPENSSH_MAGIC = Buffer.from("openssh-key-v1\0", "latin1");
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/;

/** Reads the public key out of a private key file's text. Throws {@link SshFormatError} otherwise. */
export function publicKeyFromPrivateKeyText(text: string): PrivateKeyInfo {
  const block = PEM_BLOCK.exec(text);
  if (!block) throw new SshFormatError("not a PEM or OpenSSH private key file");
  const label = block[1]!;
  const body = block[2]!;
  if (label === "OPENSSH PRIVATE KEY") return fromOpenSshKey(Buffer.from(body.replace(/\s+/g, ""), "base64"));
  if (label === "ENCRYPTED PRIVATE KEY" || /^Proc-Type:\s*4,ENCRYPTED/m.test(body))
    return { kind: "encrypted" };
  if (!["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY"].includes(label)) {
    throw new SshFormatError(`unsupported private key type "${label}"`);
  }
  return fromPem(block[0]);
}

/** `openssh-key-v1\0`, cipher, kdf, kdf options, key count, then the public key blobs in clear. */
function fromOpenSshKey(bytes: Buffer): PrivateKeyInfo {
  if (bytes.length < OPENSSH_MAGIC.length || !bytes.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) {
    throw new SshFormatError("OpenSSH private key has a bad header");
  }
  const r = new SshReader(bytes.subarray(OPENSSH_MAGIC.length));
  const cipher = r.string("cipher name").toString("latin1");
  r.string("kdf name");
  r.string("kdf options");
  if (r.uint32("key count") < 1) throw new SshFormatError("OpenSSH private key file holds no key");
  const key = publicKeyFromBlob(r.string("public key"));
  return { kind: "public", key, encrypted: cipher !== "none" };
}

function fromPem(pem: string): PrivateKeyInfo {
  let jwk: JsonWebKey;
  try {
    jwk = createPublicKey({ key: pem, format: "pem" }).export({ format: "jwk" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_MISSING_PASSPHRASE") return { kind: "encrypted" };
    throw new SshFormatError(`cannot read the private key (${(error as Error).message})`);
  }
  return { kind: "public", key: publicKeyFromBlob(blobFromJwk(jwk)), encrypted: false };
}

const EC_CURVES: Readonly<Record<string, string>> = {
  "P-256": "nistp256",
  "P-384": "nistp384",
  "P-521": "nistp521",
};

/** The SSH wire blob of a public key given as a JWK (RSA, EC P-256/384/521, Ed25519). */
function blobFromJwk(jwk: JsonWebKey): Buffer {
  const b64u = (v: unknown) => Buffer.from(String(v ?? ""), "base64url");
  if (jwk.kty === "RSA") return sshStrings("ssh-rsa", mpintBody(b64u(jwk.e)), mpintBody(b64u(jwk.n)));
  if (jwk.kty === "EC" && typeof jwk.crv === "string" && EC_CURVES[jwk.crv]) {
    const curve = EC_CURVES[jwk.crv]!;
    const point = Buffer.concat([Buffer.from([4]), b64u(jwk.x), b64u(jwk.y)]);
    return sshStrings(`ecdsa-sha2-${curve}`, curve, point);
  }
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return sshStrings("ssh-ed25519", b64u(jwk.x));
  throw new SshFormatError(`unsupported key algorithm ${String(jwk.kty)} ${String(jwk.crv ?? "")}`.trim());
}
