/**
 * The Session Manager documents the emulator knows, and how StartSession's `Parameters` become a
 * session type plus the document's resolved `properties` (ssm-protocol.md §2.1). Pure.
 *
 * Parameter patterns are those of the AWS-managed documents; the error texts follow what the
 * real service answers (`InvalidParameters`: `Parameter "host" has value "x" not matching "<re>".`).
 */

/** Agent session plugins the emulator runs. */
export const SessionTypes = [
  "Standard_Stream",
  "InteractiveCommands",
  "NonInteractiveCommands",
  "Port",
] as const;
export type SessionType = (typeof SessionTypes)[number];

/** The document used when StartSession has no DocumentName. */
export const DEFAULT_DOCUMENT = "SSM-SessionManagerRunShell";

/** `properties` of Port documents (what the client reads from the SessionType handshake action). */
export interface PortProperties {
  portNumber: string;
  /** `LocalPortForwarding` for the port-forwarding documents; absent for SSH (standard-stream mode). */
  type?: "LocalPortForwarding";
  localPortNumber?: string;
  /** Remote host (AWS-StartPortForwardingSessionToRemoteHost only). */
  host?: string;
}

/** Per-OS command of an InteractiveCommands document. */
export interface ShellCommand {
  commands: string;
  runAsElevated: boolean;
}

/**
 * Per-OS command of a NonInteractiveCommands document: the agent's `ShellConfig` adds the
 * stream separation switch (a string after parameter substitution, AGT `contracts/model.go`).
 */
export interface NonInteractiveShellCommand extends ShellCommand {
  separateOutputStream?: string;
}

/** `properties` of AWS-StartInteractiveCommand and AWS-StartNonInteractiveCommand. */
export interface CommandProperties {
  linux: NonInteractiveShellCommand;
  windows: NonInteractiveShellCommand;
  macos: NonInteractiveShellCommand;
}

/** Resolved document properties; `null` for plain shells (the agent sends `Properties: null`). */
export type SessionProperties = PortProperties | CommandProperties | null;

interface ParameterSpec {
  /** Applied when the parameter is absent; no default means required. */
  default?: string;
  /** The document's `allowedPattern` (the source text goes into error messages). */
  pattern?: string;
}

interface SessionDocument {
  sessionType: SessionType;
  parameters: Record<string, ParameterSpec>;
  properties(values: Record<string, string>): SessionProperties;
}

const REMOTE_PORT =
  "^([1-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$";
const LOCAL_PORT =
  "^([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$";
const HOST = "^[^,$^&\\(\\)!;'\"<>\\`{}\\[\\]\\|#=]{3,}$";

const v = (values: Record<string, string>, name: string): string => values[name] ?? "";

/** The documents StartSession accepts, by name. */
export const SESSION_DOCUMENTS: Readonly<Record<string, SessionDocument>> = {
  [DEFAULT_DOCUMENT]: {
    sessionType: "Standard_Stream",
    parameters: {},
    properties: () => null,
  },
  "AWS-StartSSHSession": {
    sessionType: "Port",
    parameters: { portNumber: { default: "22", pattern: REMOTE_PORT } },
    properties: (values) => ({ portNumber: v(values, "portNumber") }),
  },
  "AWS-StartPortForwardingSession": {
    sessionType: "Port",
    parameters: {
      portNumber: { default: "80", pattern: REMOTE_PORT },
      localPortNumber: { default: "0", pattern: LOCAL_PORT },
    },
    properties: (values) => ({
      portNumber: v(values, "portNumber"),
      type: "LocalPortForwarding",
      localPortNumber: v(values, "localPortNumber"),
    }),
  },
  "AWS-StartPortForwardingSessionToRemoteHost": {
    sessionType: "Port",
    parameters: {
      host: { default: "localhost", pattern: HOST },
      portNumber: { default: "80", pattern: REMOTE_PORT },
      localPortNumber: { default: "0", pattern: LOCAL_PORT },
    },
    properties: (values) => ({
      portNumber: v(values, "portNumber"),
      type: "LocalPortForwarding",
      localPortNumber: v(values, "localPortNumber"),
      host: v(values, "host"),
    }),
  },
  "AWS-StartInteractiveCommand": {
    sessionType: "InteractiveCommands",
    parameters: { command: {} },
    properties: (values) => {
      const command = { commands: v(values, "command"), runAsElevated: false };
      return { linux: command, windows: { ...command }, macos: { ...command } };
    },
  },
  // The AWS-managed document: `separateOutputStream` ("false" by default) asks agents from
  // 3.1.1511.0 on for StdErr and ExitCode messages (ssm-protocol.md §2.1, §4.6).
  "AWS-StartNonInteractiveCommand": {
    sessionType: "NonInteractiveCommands",
    parameters: {
      command: {},
      separateOutputStream: { default: "false", pattern: "^(true|false)$" },
    },
    properties: (values) => {
      const command = {
        commands: v(values, "command"),
        runAsElevated: false,
        separateOutputStream: v(values, "separateOutputStream"),
      };
      return { linux: command, windows: { ...command }, macos: { ...command } };
    },
  },
};

/** A document with its parameters checked and defaults applied. */
export interface ResolvedDocument {
  documentName: string;
  sessionType: SessionType;
  parameters: Record<string, string>;
  properties: SessionProperties;
}

/** Why a StartSession document or parameter set was refused (the AWS error code and message). */
export interface DocumentProblem {
  code: "InvalidDocument" | "InvalidParameters";
  message: string;
}

/**
 * Checks StartSession's `DocumentName` and `Parameters` (each name maps to a list holding one
 * value) and resolves the session type and properties.
 */
export function resolveDocument(
  documentName: string | undefined,
  parameters: Readonly<Record<string, readonly string[]>> | undefined,
): ResolvedDocument | DocumentProblem {
  const name = documentName ?? DEFAULT_DOCUMENT;
  const doc = Object.hasOwn(SESSION_DOCUMENTS, name) ? SESSION_DOCUMENTS[name] : undefined;
  if (!doc) return { code: "InvalidDocument", message: `Document with name ${name} does not exist.` };
  const given = parameters ?? {};
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(doc.parameters, key)) {
      return { code: "InvalidParameters", message: `Parameter "${key}" is not defined in document ${name}.` };
    }
  }
  const values: Record<string, string> = {};
  for (const [key, spec] of Object.entries(doc.parameters)) {
    const list = given[key];
    if (list === undefined || list.length === 0) {
      if (spec.default === undefined) {
        return { code: "InvalidParameters", message: `Parameter "${key}" is required by document ${name}.` };
      }
      values[key] = spec.default;
      continue;
    }
    if (list.length !== 1) {
      return { code: "InvalidParameters", message: `Parameter "${key}" must have exactly one value.` };
    }
    const value = list[0] ?? "";
    if (spec.pattern !== undefined && !new RegExp(spec.pattern).test(value)) {
      return {
        code: "InvalidParameters",
        message: `Parameter "${key}" has value "${value}" not matching "${spec.pattern}".`,
      };
    }
    values[key] = value;
  }
  return {
    documentName: name,
    sessionType: doc.sessionType,
    parameters: values,
    properties: doc.properties(values),
  };
}

/** Type guard separating a refusal from a resolved document. */
export function isDocumentProblem(result: ResolvedDocument | DocumentProblem): result is DocumentProblem {
  return "code" in result;
}
