/** Where MFA codes come from: `-o` / `MFA_CODE`, else a prompt on the terminal. */
import type { Logger } from "@aws-runas/wire/log.js";
import { CredentialsError } from "./errors.js";
import { NoTerminalError } from "./tty-prompt.js";

/** The prompt aws-runas shows. */
export const MFA_PROMPT = "MFA token code: ";

/** Asks the user for one line; the default reads the controlling terminal. */
export type Prompt = (message: string) => Promise<string>;

/** Hands out an MFA code for a device each time a flow needs one. */
export type MfaCodeSource = (mfaSerial: string) => Promise<string>;

/**
 * A code source. A code given up front (`-o` or `MFA_CODE`) is used once — TOTP codes cannot
 * be replayed, so later needs (credentials expiring during a long session) prompt. Every code
 * is registered as a secret with the logger.
 */
export function createMfaCodeSource(
  given: string | undefined,
  prompt: Prompt,
  logger: Logger,
): MfaCodeSource {
  let preset = given?.trim() || undefined;
  logger.addSecret(preset);
  return async (mfaSerial) => {
    if (preset !== undefined) {
      const code = preset;
      preset = undefined;
      logger.debug(`mfa: using the given code for ${mfaSerial}`);
      return code;
    }
    let answer: string;
    try {
      answer = await prompt(MFA_PROMPT);
    } catch (error) {
      if (error instanceof NoTerminalError) {
        throw new CredentialsError(
          "CREDENTIALS_MFA_CODE_REQUIRED",
          `an MFA code is needed for ${mfaSerial}`,
          {
            hint: "no terminal to prompt on: set MFA_CODE or pass -o <code>",
            cause: error,
          },
        );
      }
      throw error;
    }
    const code = answer.trim();
    if (code === "") {
      throw new CredentialsError("CREDENTIALS_MFA_CODE_EMPTY", "no MFA code entered", {
        hint: "enter the code from your MFA device, or set MFA_CODE / pass -o <code>",
      });
    }
    logger.addSecret(code);
    // STS takes six digits only; checking here keeps a typo from costing an AWS call.
    if (!/^\d{6}$/.test(code)) {
      throw new CredentialsError("CREDENTIALS_MFA_CODE_INVALID", "the MFA code entered is not 6 digits", {
        hint: "enter the current 6-digit code from your MFA device",
      });
    }
    return code;
  };
}
