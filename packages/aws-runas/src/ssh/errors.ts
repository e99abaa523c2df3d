/** Errors of the ssh helpers (key files, ssh-agent, key discovery for `--ec2ic`). */
import { RunasError } from "@aws-runas/wire/errors.js";

/** Bytes that are not a well-formed SSH key, key file or agent message. */
export class SshFormatError extends RunasError {
  constructor(message: string) {
    super("SSH_BAD_FORMAT", message);
  }
}

/** ssh-agent could not be reached or answered something unexpected. */
export class SshAgentError extends RunasError {
  constructor(message: string, cause?: unknown) {
    super("SSH_AGENT", message, { cause });
  }
}

/**
 * `--ec2ic` found no public key it could push. `tried` lists every place looked at with the
 * reason it was passed over, in search order (also in the message).
 */
export class NoUsableKeyError extends RunasError {
  readonly tried: readonly string[];

  /** `aliasMayHelp`: no IdentityFile applied to the target and no ssh alias was given. */
  constructor(tried: readonly string[], options: { aliasMayHelp?: boolean } = {}) {
    const detail = tried.length > 0 ? `; tried ${tried.join(", ")}` : "";
    const usual =
      "name a key with IdentityFile in ~/.ssh/config, add one to ssh-agent, or create ~/.ssh/id_ed25519 with ssh-keygen";
    super("EC2IC_NO_KEY", `no SSH public key to push with EC2 Instance Connect${detail}`, {
      hint: options.aliasMayHelp
        ? `if your ssh Host alias is not the target, add --ssh-host %n to the ProxyCommand; or ${usual}`
        : usual,
    });
    this.tried = tried;
  }
}
