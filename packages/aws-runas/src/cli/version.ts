/** The program version, from package.json (esbuild inlines the JSON into the bundle). */
import packageJson from "../../package.json" with { type: "json" };

/** `aws-runas --version` output. */
export const VERSION: string = packageJson.version;
