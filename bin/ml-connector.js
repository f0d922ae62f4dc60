#!/usr/bin/env node
// Entry point: runs the TypeScript sources without a build step.
//
// Loading the ~230 modules of src/ (and the packages they import) one by one through tsx's module
// hooks takes about 4 s on a small machine, at every command. So the sources are bundled once, with
// esbuild (packages stay external), into one module under node_modules/.cache/ml-connector/, named
// by a fingerprint of every source file's path, size and modification time: an edit under src/
// makes a new bundle at the next start, and a start with nothing changed imports the bundle at once
// (about 2 s sooner). ML_CONNECTOR_NO_BUNDLE=1 loads the sources through tsx instead; so does any
// start whose bundle cannot be built or written (a read-only install), after one line on stderr.
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// A SIGTERM/SIGINT while the modules load (a second or more) is kept, not fatal: main hands it to
// the command (`run` then stops cleanly as soon as it has started; any other command gets it back
// as its action begins). See src/cli/start-signals.ts.
let loadSignal;
const keepLoadSignal = (signal) => {
  loadSignal ??= signal;
};
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, keepLoadSignal);
const loadSignals = {
  received: () => loadSignal,
  release: () => {
    for (const s of ['SIGTERM', 'SIGINT']) process.off(s, keepLoadSignal);
  },
};

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const entry = join(src, 'cli', 'main.ts');
/** Bumped when the way the bundle is built changes. */
const BUILD = 1;
/** Bundles of other fingerprints older than this are removed after a build (a running process may still import a newer one). */
const KEEP_OLD_MS = 60 * 60 * 1000;

function sources(dir, into) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sources(path, into);
    else if (/\.(ts|json)$/.test(entry.name) && !entry.name.endsWith('.test.ts')) {
      const s = statSync(path);
      into.push(`${relative(src, path)}:${s.size}:${s.mtimeMs}`);
    }
  }
  return into;
}

async function bundle() {
  const cache = join(root, 'node_modules', '.cache', 'ml-connector');
  const files = sources(src, []).sort();
  const fingerprint = createHash('sha256')
    .update(`${BUILD}\n${process.version}\n${files.join('\n')}`)
    .digest('hex')
    .slice(0, 20);
  const out = join(cache, `cli-${fingerprint}.mjs`);
  try {
    statSync(out);
    return out;
  } catch {}
  const esbuild = await import('esbuild');
  mkdirSync(cache, { recursive: true });
  const built = await esbuild.build({
    entryPoints: [entry],
    outfile: out,
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'error',
    plugins: [
      {
        // Each source keeps its own import.meta.url (files are found relative to it), not the bundle's.
        name: 'import-meta-url',
        setup(build) {
          build.onLoad({ filter: /\.ts$/ }, (args) => {
            const text = readFileSync(args.path, 'utf8');
            return {
              contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
              loader: 'ts',
            };
          });
        },
      },
    ],
  });
  // Written under other names, then renamed: processes starting side by side each see a whole file.
  // The map first, so a bundle never points at a missing one.
  const outputs = built.outputFiles.sort((a, b) => Number(a.path === out) - Number(b.path === out));
  for (const file of outputs) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
  }
  for (const name of readdirSync(cache)) {
    const path = join(cache, name);
    if (path.startsWith(out)) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > KEEP_OLD_MS) unlinkSync(path);
    } catch {}
  }
  return out;
}

let main;
if (process.env.ML_CONNECTOR_NO_BUNDLE !== '1') {
  try {
    const file = await bundle();
    // Stack traces name the source files and lines, not the bundle's.
    process.setSourceMapsEnabled(true);
    ({ main } = await import(pathToFileURL(file).href));
  } catch (error) {
    process.stderr.write(
      `ml-connector: could not bundle the sources (${error instanceof Error ? error.message : String(error)}); loading them through tsx\n`,
    );
  }
}
if (!main) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(pathToFileURL(entry).href));
}
await main(process.argv, loadSignals);
