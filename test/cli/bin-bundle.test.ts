/**
 * The bin's bundle (bin/ml-connector.js): on a copy of the package (bin, src, package.json; the
 * real node_modules linked in), the first start bundles the sources and later starts import that
 * bundle; an edit under src/ is in the very next start; files found relative to a source (the
 * package.json `--version` reads) are found from the bundle too; ML_CONNECTOR_NO_BUNDLE=1 runs the
 * sources through tsx.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const cache = join(repo, 'node_modules', '.cache', 'ml-connector');
const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;

describe('the bin bundles the sources', () => {
  let root = '';
  let bin = '';
  const bundlesOfCopy = () =>
    readdirSync(cache).filter(
      (name) => name.endsWith('.mjs') && readFileSync(join(cache, name), 'utf8').includes(root),
    );
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, [bin, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'mlc-bin-'));
    for (const part of ['bin', 'src', 'package.json'])
      cpSync(join(repo, part), join(root, part), { recursive: true });
    symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
    bin = join(root, 'bin', 'ml-connector.js');
  });
  after(() => {
    for (const name of bundlesOfCopy()) {
      rmSync(join(cache, name));
      rmSync(join(cache, `${name}.map`), { force: true });
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('bundles at the first start, imports the bundle after, and sees an edit at the next start', () => {
    const first = run(['--version']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), version, 'package.json found relative to its source');
    assert.equal(first.stderr, '');
    const made = bundlesOfCopy();
    assert.equal(made.length, 1, 'one bundle of the copy');
    const bundle = join(cache, made[0] as string);
    assert.ok(
      readFileSync(`${bundle}.map`, 'utf8').includes('src/cli/program.ts'),
      'a source map names the sources',
    );

    const again = run(['--version']);
    assert.equal(again.stdout.trim(), version);
    assert.deepEqual(bundlesOfCopy(), made, 'nothing changed: the same bundle');

    const program = join(root, 'src', 'cli', 'program.ts');
    const text = readFileSync(program, 'utf8');
    assert.ok(text.includes("'print the version and exit'"));
    writeFileSync(
      program,
      text.replace("'print the version and exit'", "'print the version (edited) and exit'"),
    );
    const help = run(['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /print the version \(edited\) and exit/);
    assert.equal(bundlesOfCopy().length, 2, 'the edit made a new bundle');
  });

  it('ML_CONNECTOR_NO_BUNDLE=1 runs the sources through tsx', () => {
    const before = bundlesOfCopy().length;
    const program = join(root, 'src', 'cli', 'program.ts');
    writeFileSync(program, readFileSync(program, 'utf8').replace('(edited)', '(edited twice)'));
    const result = run(['--help'], { ML_CONNECTOR_NO_BUNDLE: '1' });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /print the version \(edited twice\) and exit/);
    assert.equal(bundlesOfCopy().length, before, 'no bundle made');
  });
});
