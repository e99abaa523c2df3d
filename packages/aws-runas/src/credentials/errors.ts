import { RunasError } from "@aws-runas/wire/errors.js";

/** Stable codes for failures to obtain credentials (AWS call failures are `AwsError`s instead). */
export type CredentialsErrorCode =
  | "CREDENTIALS_MFA_CODE_REQUIRED"
  | "CREDENTIALS_MFA_CODE_EMPTY"
  | "CREDENTIALS_MFA_CODE_INVALID"
  | "CREDENTIALS_NO_CREDENTIALS"
  | "CREDENTIALS_BAD_RESPONSE";

/** We could not produce credentials for the profile (missing MFA code, no keys...). */
export class CredentialsError extends RunasError {
  declare readonly code: CredentialsErrorCode;
  constructor(code: CredentialsErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
  }
}
