/**
 * STS (query protocol, version 2011-06-15): GetCallerIdentity, GetSessionToken and AssumeRole,
 * with TOTP MFA checks, role trust (principals, MFA, ExternalId) and duration limits.
 */
import * as OTPAuth from "otpauth";
import type { FixtureRole } from "../fixture/types.js";
import type { ApiCall, ApiContext, QueryOperation } from "./context.js";
import { ApiError, constraintMessage, validationError } from "./errors.js";
import type { IssuedCredentials, Principal } from "./identity.js";
import type { XmlValue } from "./xml.js";

/** XML namespace of STS responses. */
export const STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";

const MFA_INVALID_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code. ";
const MFA_UNKNOWN_DEVICE =
  "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.";

function accessDenied(message: string): ApiError {
  return new ApiError("AccessDenied", message, 403);
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function credentialsXml(c: IssuedCredentials): { [name: string]: XmlValue } {
  return {
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    SessionToken: c.sessionToken,
    Expiration: isoSeconds(c.expiresAt),
  };
}

function intParam(params: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const text = params.get(name);
  if (text === null) return undefined;
  const value = Number(text);
  const field = name.charAt(0).toLowerCase() + name.slice(1);
  if (!/^-?\d+$/.test(text))
    throw validationError("query", constraintMessage(text, field, "Member must be an integer"));
  if (value < min)
    throw validationError(
      "query",
      constraintMessage(text, field, `Member must have value greater than or equal to ${min}`),
    );
  if (value > max)
    throw validationError(
      "query",
      constraintMessage(text, field, `Member must have value less than or equal to ${max}`),
    );
  return value;
}

/**
 * Checks SerialNumber + TokenCode against the calling user's TOTP devices (±1 step on the
 * emulator clock). Returns false when neither is given; throws AccessDenied when they are wrong.
 */
function checkMfa(call: ApiCall, ctx: ApiContext): boolean {
  const serial = call.params.get("SerialNumber");
  const code = call.params.get("TokenCode");
  if (serial === null && code === null) return false;
  if (code !== null && !/^\d{6}$/.test(code)) {
    throw validationError(
      "query",
      constraintMessage(code, "tokenCode", "Member must satisfy regular expression pattern: [\\d]*"),
    );
  }
  if (serial === null || code === null) throw accessDenied(MFA_INVALID_CODE);
  const user =
    call.caller.sourceUser === undefined ? undefined : ctx.identities.findUser(call.caller.sourceUser);
  const device = user?.mfaDevices.find((d) => d.serialNumber === serial);
  if (!device) throw accessDenied(MFA_UNKNOWN_DEVICE);
  const totp = new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(device.secretBase32),
    digits: 6,
    period: 30,
    algorithm: "SHA1",
  });
  if (totp.validate({ token: code, timestamp: ctx.clock.now(), window: 1 }) === null)
    throw accessDenied(MFA_INVALID_CODE);
  return true;
}

const getCallerIdentity: QueryOperation = (call) => ({
  UserId: call.caller.userId,
  Account: call.caller.accountId,
  Arn: call.caller.arn,
});

const getSessionToken: QueryOperation = (call, ctx) => {
  if (call.key.sessionToken !== undefined || call.caller.kind !== "user") {
    throw accessDenied("Cannot call GetSessionToken with session credentials");
  }
  const duration = intParam(call.params, "DurationSeconds", 900, 129600) ?? 43200;
  const mfa = checkMfa(call, ctx);
  const user = ctx.identities.findUser(call.caller.name);
  if (!user) throw accessDenied(`User: ${call.caller.arn} is not authorized to perform: sts:GetSessionToken`);
  const credentials = ctx.identities.issue(ctx.identities.userPrincipal(user, mfa), duration);
  return { Credentials: credentialsXml(credentials) };
};

/** The ARN a trust policy names for a caller: users by user ARN, assumed roles by role ARN. */
function trustArn(caller: Principal): string {
  return caller.kind === "user" ? caller.arn : `arn:aws:iam::${caller.accountId}:role/${caller.roleName}`;
}

function trusts(role: FixtureRole, caller: Principal): boolean {
  const arn = trustArn(caller);
  return role.trust.principals.some((p) => p === arn || p === `arn:aws:iam::${caller.accountId}:root`);
}

const assumeRole: QueryOperation = (call, ctx) => {
  const { params, caller } = call;
  const roleArn = params.get("RoleArn");
  const sessionName = params.get("RoleSessionName");
  if (roleArn === null)
    throw validationError(
      "query",
      "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
    );
  if (roleArn.length < 20)
    throw validationError(
      "query",
      constraintMessage(roleArn, "roleArn", "Member must have length greater than or equal to 20"),
    );
  if (sessionName === null) {
    throw validationError(
      "query",
      "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null",
    );
  }
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    throw validationError(
      "query",
      constraintMessage(
        sessionName,
        "roleSessionName",
        "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
      ),
    );
  }
  const duration = intParam(params, "DurationSeconds", 900, 43200) ?? 3600;
  const denied = accessDenied(
    `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
  );
  const role = ctx.identities.findRoleByArn(roleArn);
  if (!role || !trusts(role, caller)) throw denied;
  const mfa = checkMfa(call, ctx) || caller.mfaAuthenticated;
  if (role.trust.mfaRequired && !mfa) throw denied;
  if (role.trust.externalId !== undefined && params.get("ExternalId") !== role.trust.externalId) throw denied;
  if (duration > role.maxSessionDurationSeconds) {
    throw validationError(
      "query",
      "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    );
  }
  if (caller.kind === "assumed-role" && duration > 3600) {
    throw validationError(
      "query",
      "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    );
  }
  const principal = ctx.identities.rolePrincipal(role, sessionName, mfa, caller.sourceUser);
  const credentials = ctx.identities.issue(principal, duration);
  return {
    Credentials: credentialsXml(credentials),
    AssumedRoleUser: { AssumedRoleId: principal.userId, Arn: principal.arn },
  };
};

/** STS operations by Action name. Real STS needs no IAM permission for these three calls. */
export const stsOperations: Readonly<Record<string, QueryOperation>> = {
  GetCallerIdentity: getCallerIdentity,
  GetSessionToken: getSessionToken,
  AssumeRole: assumeRole,
};
