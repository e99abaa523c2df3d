/**
 * OpenSSH public keys: the binary key blob (RFC 4253 §6.6, RFC 5656, RFC 8709) and the one-line
 * text form `type base64(blob) comment` used by `.pub` files, authorized_keys and
 * EC2 Instance Connect. Values in, values out.
 */
import { createHash } from "node:crypto";
import { SshFormatError } from "./errors.js";
import { SshReader } from "./wire.js";

/** A public key: its type name, its wire blob and a free-text comment (may be empty). */
export interface PublicKey {
  readonly type: string;
  readonly blob: Buffer;
  readonly comment: string;
}

/** Key types EC2 Instance Connect's SendSSHPublicKey accepts (and so do sshd and the emulator). */
export const EC2IC_KEY_TYPES: readonly string[] = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
];

/**
 * Reads a key blob's type and checks its fields have the shape that type requires, so a blob
 * from a file or an agent is never passed on half-parsed.
 */
export function keyTypeOfBlob(blob: Buffer): string {
  const r = new SshReader(blob);
  const type = r.string("key type").toString("latin1");
  if (!/^[\x21-\x7e]{1,64}$/.test(type)) throw new SshFormatError("SSH key blob has no readable key type");
  switch (type) {
    case "ssh-ed25519": {
      const pk = r.string("ed25519 public key");
      if (pk.length !== 32) throw new SshFormatError(`ed25519 public key is ${pk.length} bytes, not 32`);
      break;
    }
    case "ssh-rsa":
      r.string("rsa exponent");
      if (r.string("rsa modulus").length < 64) throw new SshFormatError("rsa modulus is too short");
      break;
    case "ecdsa-sha2-nistp256":
    case "ecdsa-sha2-nistp384":
    case "ecdsa-sha2-nistp521": {
      const curve = r.string("ecdsa curve").toString("latin1");
      if (`ecdsa-sha2-${curve}` !== type)
        throw new SshFormatError(`ecdsa key names curve ${curve} in a ${type} key`);
      if (r.string("ecdsa point")[0] !== 0x04) throw new SshFormatError("ecdsa point is not uncompressed");
      break;
    }
    default:
      // Other types (certificates, security keys, dsa) are reported by name and never pushed.
      return type;
  }
  if (r.remaining !== 0) throw new SshFormatError(`${r.remaining} stray bytes after the ${type} key`);
  return type;
}

/** Comments come from files and agents: keep them on one line of printable text. */
function cleanComment(comment: string): string {
  return comment
    .replace(/[\x00-\x1f\x7f]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** Builds a {@link PublicKey} from a blob, validating it. */
export function publicKeyFromBlob(blob: Buffer, comment = ""): PublicKey {
  return { type: keyTypeOfBlob(blob), blob, comment: cleanComment(comment) };
}

/** The one-line OpenSSH text form: `ssh-ed25519 AAAA... comment`. */
export function formatPublicKey(key: PublicKey): string {
  const text = `${key.type} ${key.blob.toString("base64")}`;
  return key.comment ? `${text} ${key.comment}` : text;
}

/**
 * Parses the contents of a `.pub` file (the first line that is not blank or a `#` comment).
 * The type word must agree with the type inside the blob.
 */
export function parsePublicKeyText(text: string): PublicKey {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
  if (line === undefined) throw new SshFormatError("no public key in the file");
  if (line.startsWith("---- BEGIN SSH2 PUBLIC KEY")) {
    throw new SshFormatError(
      "RFC 4716 (SSH2) public key files are not supported; convert with ssh-keygen -i",
    );
  }
  const [type, base64, ...rest] = line.trim().split(/\s+/);
  if (!type || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
    throw new SshFormatError("not an OpenSSH public key line (expected: type base64 [comment])");
  }
  const key = publicKeyFromBlob(Buffer.from(base64, "base64"), rest.join(" "));
  if (key.type !== type) throw new SshFormatError(`public key line says ${type} but holds a ${key.type} key`);
  return key;
}

/** Why EC2 Instance Connect would refuse this key type, or `undefined` when it accepts it. */
export function ec2icRejection(type: string): string | undefined {
  if (EC2IC_KEY_TYPES.includes(type)) return undefined;
  if (type.includes("-cert-v01@openssh.com")) return `${type} is a certificate, not a plain key`;
  if (type.startsWith("sk-")) return `${type} security keys are not accepted by EC2 Instance Connect`;
  return `${type} keys are not accepted by EC2 Instance Connect`;
}

/** `SHA256:...` fingerprint, as `ssh-keygen -l` prints it (for logs and messages). */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}
