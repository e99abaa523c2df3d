// Packs what a user installs: `aws-runas-<version>.tgz` holds the client only (one esbuild
// bundle with the wire codec and every dependency inside, the --version launcher, its own
// package.json with no dependencies, README, LICENSE), so `npm install -g` needs no registry,
// no compiler and never sees node-pty. `--emulator` also packs `aws-runas-emulator-<version>.tgz`,
// the emulator, which keeps node-pty (a native addon) as its one dependency.
//
//   node scripts/pack-client.mjs [--out DIR] [--emulator] [--emulator-only]
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { bundleOptions, externalImports, PROGRAMS, versionOnly } from "./esbuild-options.mjs";

const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const outDir = resolve(outIndex >= 0 ? args[outIndex + 1] : ".");
const wantClient = !args.includes("--emulator-only");
const wantEmulator = args.includes("--emulator") || args.includes("--emulator-only");

const CLIENT = PROGRAMS.client.dir;
const EMULATOR = PROGRAMS.emulator.dir;
const client = JSON.parse(readFileSync(`${CLIENT}/package.json`, "utf8"));
const emulator = JSON.parse(readFileSync(`${EMULATOR}/package.json`, "utf8"));
mkdirSync(outDir, { recursive: true });

/** The shared bundle options, plus what packing needs. */
const common = { ...bundleOptions, metafile: true, plugins: [versionOnly()] };

/** Fields a generated package.json carries over from its workspace package. */
function baseManifest(pkg) {
  return {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    type: "module",
    license: pkg.license,
    engines: pkg.engines,
  };
}

/** Writes the staged package folder to a tarball with `npm pack` and returns its path. */
function pack(stage) {
  for (const file of ["README.md", "LICENSE"]) if (existsSync(file)) copyFileSync(file, join(stage, file));
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", outDir], {
    cwd: stage,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [info] = JSON.parse(out);
  return join(outDir, info.filename);
}

async function packClient() {
  const stage = mkdtempSync(join(tmpdir(), "aws-runas-pack-"));
  try {
    const result = await build({
      ...common,
      entryPoints: { [PROGRAMS.client.name]: PROGRAMS.client.entry },
      outdir: join(stage, "dist"),
    });
    // The client must carry nothing external: a bare import left in the bundle would need the
    // registry at install time (and node-pty a compiler).
    const external = externalImports(result.metafile);
    if (external.length > 0) throw new Error(`the client bundle imports ${external.join(", ")} at run time`);
    mkdirSync(join(stage, "bin"));
    copyFileSync(`${CLIENT}/bin/aws-runas.cjs`, join(stage, "bin/aws-runas.cjs"));
    const manifest = {
      ...baseManifest(client),
      bin: { "aws-runas": "bin/aws-runas.cjs" },
      files: ["bin", "dist"],
    };
    writeFileSync(join(stage, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    return pack(stage);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

async function packEmulator() {
  const stage = mkdtempSync(join(tmpdir(), "aws-runas-emulator-pack-"));
  try {
    const result = await build({
      ...common,
      entryPoints: { [PROGRAMS.emulator.name]: PROGRAMS.emulator.entry },
      outdir: join(stage, "dist"),
      external: ["node-pty"],
    });
    const dependencies = {};
    for (const name of externalImports(result.metafile)) {
      const range = emulator.dependencies[name];
      if (!range)
        throw new Error(`the emulator bundle imports ${name}, which its package.json does not list`);
      dependencies[name] = range;
    }
    mkdirSync(join(stage, "bin"));
    copyFileSync(`${EMULATOR}/bin/aws-runas-emulator.js`, join(stage, "bin/aws-runas-emulator.js"));
    const manifest = {
      ...baseManifest(emulator),
      bin: { "aws-runas-emulator": "bin/aws-runas-emulator.js" },
      files: ["bin", "dist"],
      dependencies,
    };
    writeFileSync(join(stage, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    return pack(stage);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (wantClient) console.log(await packClient());
if (wantEmulator) console.log(await packEmulator());
