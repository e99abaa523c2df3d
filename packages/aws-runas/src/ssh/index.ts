/**
 * OpenSSH helpers for `ssm ssh --ec2ic`: ssh_config evaluation, a small ssh-agent client,
 * public/private key file reading, and the key discovery that picks the key to push.
 */
export { listAgentIdentities } from "./agent.js";
export type { AgentIdentity } from "./agent-protocol.js";
export { evaluateSshConfig, type HostSettings, parseSshConfigText } from "./config.js";
export { loadSshConfig } from "./config-file.js";
export {
  DEFAULT_IDENTITY_FILES,
  type DiscoveredKey,
  discoverPublicKey,
  type KeyDiscoveryOptions,
  type KeySource,
} from "./discover.js";
export { NoUsableKeyError, SshAgentError, SshFormatError } from "./errors.js";
export { hostLineMatches, matchPattern } from "./host-pattern.js";
export { formatPublicKey, type PublicKey, parsePublicKeyText } from "./public-key.js";
