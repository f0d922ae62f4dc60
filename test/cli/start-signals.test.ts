/**
 * A SIGTERM/SIGINT that arrives while a command is still loading its modules: kept by the bin and
 * handed to the command (`run` stops cleanly with exit 0; any other command gets it back as its
 * action begins). In process for the hand-over, and with the real binary for the whole path: the
 * signal is sent while the binary is still loading its modules, before `run` has its own handlers.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { holdSignalsDuringStart } from '../../src/cli/commands/run.js';
import { runProgram } from '../../src/cli/program.js';
import {
  holdSignals,
  keepLoadSignals,
  releaseLoadSignals,
  takeLoadSignal,
} from '../../src/cli/start-signals.js';
import { BIN } from '../helpers/cli.js';
import { type RunSetup, setupRun } from '../helpers/run-process.js';

const listeners = () => process.listenerCount('SIGTERM') + process.listenerCount('SIGINT');

describe('signals kept while the modules load (in process)', () => {
  it('holdSignalsDuringStart takes over the kept signal and removes the keeper', () => {
    const before = listeners();
    keepLoadSignals(holdSignals());
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGTERM', 'SIGTERM');
    const held = holdSignalsDuringStart();
    assert.equal(held.received(), 'SIGINT', 'the first signal kept while loading');
    assert.equal(listeners(), before + 2, "only the start's own handlers remain");
    held.release();
    assert.equal(listeners(), before);
    assert.equal(takeLoadSignal(), undefined, 'taken once');
  });

  it('a start with nothing kept while loading reports what arrives during the start', () => {
    keepLoadSignals(holdSignals());
    const held = holdSignalsDuringStart();
    assert.equal(held.received(), undefined);
    process.emit('SIGTERM', 'SIGTERM');
    assert.equal(held.received(), 'SIGTERM');
    held.release();
  });

  it('releaseLoadSignals raises the kept signal again, with the keeper already removed', () => {
    const before = listeners();
    const raised: Array<{ signal: string; listeners: number }> = [];
    keepLoadSignals(holdSignals(), (signal) => raised.push({ signal, listeners: listeners() }));
    process.emit('SIGTERM', 'SIGTERM');
    releaseLoadSignals();
    assert.deepEqual(raised, [{ signal: 'SIGTERM', listeners: before }]);
    releaseLoadSignals();
    assert.equal(raised.length, 1, 'raised once');
  });

  it('a command other than run gets the signal back as its action begins', async () => {
    const raised: string[] = [];
    keepLoadSignals(holdSignals(), (signal) => raised.push(`${signal} with ${listeners()} listeners`));
    const before = listeners() - 2;
    process.emit('SIGTERM', 'SIGTERM');
    const out: string[] = [];
    // --version runs no action: the release comes as runProgram ends.
    await runProgram(['node', 'ml-connector', '--version'], {
      stdout: (l) => out.push(l),
      stderr: (l) => out.push(l),
      readStdin: async () => '',
      env: {},
    });
    assert.deepEqual(raised, [`SIGTERM with ${before} listeners`]);
    assert.equal(listeners(), before);
  });
});

/**
 * How long after the spawn the signal is sent. With ML_CONNECTOR_NO_BUNDLE=1 the modules load
 * through tsx, which takes 2 s or more here; Node reaches the bin's first line in well under 0.1 s.
 * (No marker in /proc tells the two apart: Node catches SIGTERM and SIGINT from its own start, to
 * reset the terminal, so SigCgt shows them before the bin runs.) A real wait, not a fake clock: it
 * is the child's loading time that is measured against, not ours.
 */
const LOADING_MS = 500;
const loadingEnv = { ML_CONNECTOR_NO_BUNDLE: '1' };

describe('SIGTERM while the binary loads', () => {
  let run: RunSetup | undefined;
  after(async () => run?.close());

  it('run: exits 0, stopped cleanly right after its start', async () => {
    run = await setupRun({ prefix: 'start-signals', orders: 3 });
    Object.assign(run.env, loadingEnv);
    const child = run.start();
    await new Promise((r) => setTimeout(r, LOADING_MS));
    const loading = child.output();
    child.child.kill('SIGTERM');
    assert.equal(await child.exited, 0, child.output().slice(-3000));
    assert.equal(loading, '', 'the signal came before the service had logged anything');
    assert.match(child.output(), /"msg":"signal received"/);
    assert.match(child.output(), /"msg":"ml-connector run stopped"/);
  });

  it('any other command: ends by the signal, as without the keeper', async () => {
    const child = spawn(process.execPath, [BIN, '--version'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...loadingEnv },
      stdio: 'ignore',
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    await new Promise((r) => setTimeout(r, LOADING_MS));
    child.kill('SIGTERM');
    assert.deepEqual(await exited, { code: null, signal: 'SIGTERM' });
  });
});
