/**
 * AWS errors the emulated APIs answer with, and their exact per-protocol names.
 *
 * The same failure has different codes depending on the wire protocol, as in real AWS: an
 * unknown access key is `UnrecognizedClientException` for JSON services (SSM, KMS, EC2 Instance
 * Connect), `InvalidClientTokenId` for STS and `AuthFailure` for EC2. The SDK turns the code into
 * the exception's `name`, which is what callers (and `src/aws`) match on.
 */
import { RunasError } from "@aws-runas/wire/errors.js";

/** How a request was encoded: JSON 1.1 (`X-Amz-Target`), STS query or EC2 query. */
export type WireProtocol = "json" | "query" | "ec2";

/** An AWS error response: code, message and HTTP status. */
export class ApiError extends RunasError {
  readonly awsCode: string;
  readonly status: number;
  /** `Sender` for client faults, `Receiver` for server faults (query protocol `<Type>`). */
  readonly fault: "Sender" | "Receiver";

  constructor(awsCode: string, message: string, status = 400, fault: "Sender" | "Receiver" = "Sender") {
    super("EMULATOR_API", message);
    this.awsCode = awsCode;
    this.status = status;
    this.fault = fault;
  }
}

type PerProtocol = Record<WireProtocol, readonly [code: string, status: number]>;

function pick(table: PerProtocol, protocol: WireProtocol, message: string): ApiError {
  const [code, status] = table[protocol];
  return new ApiError(code, message, status);
}

const INVALID_TOKEN = "The security token included in the request is invalid.";
const BAD_SIGNATURE =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/** The request carries no Authorization header. */
export function missingAuthentication(protocol: WireProtocol): ApiError {
  return protocol === "json"
    ? new ApiError("MissingAuthenticationTokenException", "Missing Authentication Token", 400)
    : new ApiError(
        "MissingAuthenticationToken",
        "Request is missing Authentication Token",
        protocol === "ec2" ? 401 : 403,
      );
}

/** The Authorization header or its companions are malformed. */
export function incompleteSignature(protocol: WireProtocol, detail: string): ApiError {
  return pick(
    {
      json: ["IncompleteSignatureException", 400],
      query: ["IncompleteSignature", 400],
      ec2: ["IncompleteSignature", 400],
    },
    protocol,
    detail,
  );
}

/** The access key id (or its session token) is not known. */
export function unknownAccessKey(protocol: WireProtocol): ApiError {
  return protocol === "ec2"
    ? new ApiError("AuthFailure", "AWS was not able to validate the provided access credentials", 401)
    : pick(
        {
          json: ["UnrecognizedClientException", 400],
          query: ["InvalidClientTokenId", 403],
          ec2: ["AuthFailure", 401],
        },
        protocol,
        INVALID_TOKEN,
      );
}

/** The signature does not match the one computed with the key's secret. */
export function signatureMismatch(protocol: WireProtocol): ApiError {
  return pick(
    {
      json: ["InvalidSignatureException", 400],
      query: ["SignatureDoesNotMatch", 403],
      ec2: ["SignatureDoesNotMatch", 403],
    },
    protocol,
    BAD_SIGNATURE,
  );
}

/** Temporary credentials past their expiration. */
export function expiredToken(protocol: WireProtocol): ApiError {
  return protocol === "ec2"
    ? new ApiError("RequestExpired", "Request has expired.", 400)
    : pick(
        { json: ["ExpiredTokenException", 400], query: ["ExpiredToken", 400], ec2: ["RequestExpired", 400] },
        protocol,
        "The security token included in the request is expired",
      );
}

/** The principal's permissions do not include the action. */
export function accessDenied(
  protocol: WireProtocol,
  principalArn: string,
  action: string,
  resource?: string,
): ApiError {
  const on = resource ? ` on resource: ${resource}` : "";
  const text = `User: ${principalArn} is not authorized to perform: ${action}${on} because no identity-based policy allows the ${action} action`;
  if (protocol === "ec2")
    return new ApiError(
      "UnauthorizedOperation",
      `You are not authorized to perform this operation. ${text}`,
      403,
    );
  return pick(
    {
      json: ["AccessDeniedException", 400],
      query: ["AccessDenied", 403],
      ec2: ["UnauthorizedOperation", 403],
    },
    protocol,
    text,
  );
}

/** The operation does not exist (or the emulator does not implement it). */
export function unknownOperation(protocol: WireProtocol, operation: string, version?: string): ApiError {
  if (protocol === "ec2")
    return new ApiError("InvalidAction", `The action ${operation} is not valid for this web service.`, 400);
  if (protocol === "query")
    return new ApiError(
      "InvalidAction",
      `Could not find operation ${operation} for version ${version ?? "NO_VERSION_SPECIFIED"}`,
      400,
    );
  return new ApiError("UnknownOperationException", `Unknown operation ${operation}`, 400);
}

/** An input value breaks a modelled constraint. */
export function validationError(protocol: WireProtocol, message: string): ApiError {
  return pick(
    {
      json: ["ValidationException", 400],
      query: ["ValidationError", 400],
      ec2: ["InvalidParameterValue", 400],
    },
    protocol,
    message,
  );
}

/** Smithy-style constraint message: `1 validation error detected: Value 'x' at 'field' failed to satisfy constraint: ...`. */
export function constraintMessage(value: string | number, field: string, constraint: string): string {
  return `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${constraint}`;
}
