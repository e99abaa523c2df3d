/**
 * The public key behind an identity file path, as ssh would use it: `path.pub` when present
 * (so a passphrase-protected key needs no passphrase here), else the public half stored in or
 * derived from the private key file. Never logs or returns private key material.
 */
import { open } from "node:fs/promises";
import { SshFormatError } from "./errors.js";
import { publicKeyFromPrivateKeyText } from "./private-key.js";
import { type PublicKey, parsePublicKeyText } from "./public-key.js";

/** Key files are a few KiB; anything much larger is not a key (and not worth reading). */
const MAX_KEY_FILE_BYTES = 64 * 1024;

/** Either the public key and which file gave it, or why there is none. */
export type KeyFileResult =
  | { readonly ok: true; readonly key: PublicKey; readonly from: string }
  | { readonly ok: false; readonly reason: string };

/** Reads a small text file; `undefined` when it does not exist. */
async function readSmall(path: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new SshFormatError("not a regular file");
    if (info.size > MAX_KEY_FILE_BYTES) throw new SshFormatError(`larger than ${MAX_KEY_FILE_BYTES} bytes`);
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

function describe(error: unknown): string {
  if (error instanceof SshFormatError) return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `cannot read (${code})` : String(error);
}

/** Finds the public key for the identity file `path` (see the module comment for the order). */
export async function publicKeyForIdentityFile(path: string): Promise<KeyFileResult> {
  const pubPath = path.endsWith(".pub") ? path : `${path}.pub`;
  let pubProblem: string | undefined;
  try {
    const text = await readSmall(pubPath);
    if (text !== undefined) return { ok: true, key: parsePublicKeyText(text), from: pubPath };
  } catch (error) {
    pubProblem = `${pubPath.slice(pubPath.lastIndexOf("/") + 1)}: ${describe(error)}`;
  }
  if (pubPath === path) return { ok: false, reason: pubProblem ?? "not found" };

  let text: string | undefined;
  try {
    text = await readSmall(path);
  } catch (error) {
    return { ok: false, reason: describe(error) };
  }
  if (text === undefined) return { ok: false, reason: pubProblem ?? "not found" };
  try {
    const info = publicKeyFromPrivateKeyText(text);
    if (info.kind === "public") return { ok: true, key: info.key, from: path };
    return { ok: false, reason: pubProblem ?? "passphrase-protected and no .pub file beside it" };
  } catch (error) {
    return { ok: false, reason: pubProblem ?? describe(error) };
  }
}
