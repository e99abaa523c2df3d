/**
 * What the agent and the service report → the SOCKS reply (RFC 1928 §6). Pure.
 *
 * In mux mode the agent reports a failed dial only with Flag ConnectToPortError, with no reason
 * (ssm-protocol.md §7.3): a refused port and a name the instance cannot resolve look the same,
 * and both read as "connection refused". Where a reason text exists (a session the agent ends at
 * start, e.g. "Forwarding to IP address ... is forbidden", or an older agent's start-time dial)
 * it is classified here.
 */
import { AwsError, RunasError } from "@aws-runas/wire/errors.js";
import { Reply, type ReplyCode } from "./codec.js";

/** The reply for the agent's ConnectToPortError flag (see above). */
export const CONNECT_ERROR_REPLY: ReplyCode = Reply.connectionRefused;

/** Classifies an agent or service message (the `channel_closed` output of a failed session). */
export function replyForAgentMessage(text: string): ReplyCode {
  const t = text.toLowerCase();
  if (/forbidden|not allowed|denied|not authori[sz]ed/.test(t)) return Reply.notAllowed;
  if (/refused/.test(t)) return Reply.connectionRefused;
  if (/network is unreachable/.test(t)) return Reply.networkUnreachable;
  if (
    /no such host|missing address|host is unreachable|no route to host|unreachable|lookup|i\/o timeout|timed out/.test(
      t,
    )
  ) {
    return Reply.hostUnreachable;
  }
  return Reply.generalFailure;
}

/** The reply for an error starting a destination's session (StartSession, the data channel). */
export function replyForStartError(error: unknown): ReplyCode {
  if (error instanceof AwsError) {
    if (/^(AccessDenied|AccessDeniedException|UnauthorizedOperation)$/.test(error.awsCode))
      return Reply.notAllowed;
    // The instance itself is not reachable through Session Manager: its whole network is.
    if (/^(TargetNotConnected|InvalidInstanceId)$/.test(error.awsCode)) return Reply.networkUnreachable;
    return Reply.generalFailure;
  }
  if (error instanceof RunasError) return replyForAgentMessage(error.message);
  return Reply.generalFailure;
}
