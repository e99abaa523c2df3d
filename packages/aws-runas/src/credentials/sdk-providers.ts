/**
 * The bridge to the AWS SDK's own credential providers, for profiles aws-runas itself cannot
 * handle: SSO (`sso_session` / `sso_start_url`), `credential_process`, web identity,
 * `credential_source`, chained roles, and the default chain (container / instance roles).
 */
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import type { ConfigPaths } from "../config/files.js";

/** Which SDK provider to use, and for which profile. */
export type SdkProviderSpec =
  | { readonly kind: "sso"; readonly profile: string }
  | { readonly kind: "process"; readonly profile: string }
  /** fromIni: web identity, credential_source, role chains — the SDK's whole profile logic. */
  | { readonly kind: "ini"; readonly profile: string }
  /** The SDK's default chain (env, files, SSO, process, container, instance metadata). */
  | { readonly kind: "chain"; readonly profile: string };

/** What every provider needs besides the spec. */
export interface SdkProviderContext {
  readonly paths: ConfigPaths;
  readonly region: string | undefined;
  /** Lets SDK-assumed roles with `mfa_serial` use our prompt. */
  readonly mfaCodeProvider: (mfaSerial: string) => Promise<string>;
}

/** Builds a provider for a spec; tests inject a fake. */
export type SdkProviderFactory = (
  spec: SdkProviderSpec,
  context: SdkProviderContext,
) => AwsCredentialIdentityProvider;

/** The real factory: `@aws-sdk/credential-providers`, loaded on first use. */
export const sdkProviderFactory: SdkProviderFactory = (spec, context) => {
  let provider: AwsCredentialIdentityProvider | undefined;
  return async (props) => {
    provider ??= await build(spec, context);
    return provider(props);
  };
};

async function build(
  spec: SdkProviderSpec,
  context: SdkProviderContext,
): Promise<AwsCredentialIdentityProvider> {
  const sdk = await import("@aws-sdk/credential-providers");
  const files = {
    profile: spec.profile,
    filepath: context.paths.credentialsFile,
    configFilepath: context.paths.configFile,
    ignoreCache: true,
  };
  const clientConfig = context.region === undefined ? {} : { region: context.region };
  switch (spec.kind) {
    case "sso":
      return sdk.fromSSO({ ...files, clientConfig });
    case "process":
      return sdk.fromProcess(files);
    case "ini":
      return sdk.fromIni({ ...files, clientConfig, mfaCodeProvider: context.mfaCodeProvider });
    case "chain":
      return sdk.fromNodeProviderChain({ ...files, clientConfig, mfaCodeProvider: context.mfaCodeProvider });
  }
}
