// npm's "prepare" hook: builds both packages' dist/ when the devDependencies (esbuild) are installed.
// `npm install -g .` from a checkout links the checkout and runs this hook without installing
// devDependencies, so without `npm ci` first esbuild is missing: then keep an existing dist/, or
// say what to run instead of failing with a module-not-found stack trace.
import { existsSync } from "node:fs";
import { PROGRAMS } from "./esbuild-options.mjs";

let haveEsbuild = true;
try {
  await import("esbuild");
} catch {
  haveEsbuild = false;
}

if (haveEsbuild) {
  await import("./build.mjs");
} else if (Object.values(PROGRAMS).every(({ dir, name }) => existsSync(`${dir}/dist/${name}.js`))) {
  console.error(
    "aws-runas: esbuild is not installed; keeping the existing dist/ (npm ci && npm run build rebuilds it)",
  );
} else {
  console.error("aws-runas: cannot build dist/: the devDependencies are not installed");
  console.error("hint: run `npm ci` in the checkout first, then `npm install -g .`");
  process.exit(1);
}
