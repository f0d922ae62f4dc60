/**
 * `npm run bench`: runs every bench one after the other (each its own `npm run bench:<name>`, so
 * each gets its usual node flags and a fresh process) and prints their figures as one table, headed
 * with the date and the machine, ready for the README.
 *
 *   npm run bench                          every bench
 *   npm run bench -- jobs writeback        only those
 *   BENCH_SOAK_MINUTES=30 npm run bench    the soak's length inside `bench` (default 3 minutes)
 *
 * `scale-out-budget` is bench:scale-out with BENCH_MODE=budget (up to the per-key budget).
 *
 * A bench's own environment knobs (BENCH_BACKFILL, BENCH_SHIPMENTS, TEST_DATABASE_URL…) pass
 * through. The table keeps each bench's result lines as the bench printed them (figure, value, goal,
 * verdict); a bench that fails is shown with its exit code and last lines.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';

const BENCHES = [
  'jobs',
  'sandboxes',
  'orders',
  'webhooks',
  'writeback',
  'inventory',
  'soak',
  'scale-out',
  // bench:scale-out in its budget mode (BENCH_MODE=budget): throughput up to the per-key budget.
  'scale-out-budget',
] as const;

function run(name: string): Promise<{ code: number | null; out: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const env = { ...process.env };
    if (name === 'soak') env.BENCH_SOAK_MINUTES ??= '3';
    if (name === 'scale-out-budget') env.BENCH_MODE = 'budget';
    const script = name === 'scale-out-budget' ? 'scale-out' : name;
    const child = spawn('npm', ['run', '-s', `bench:${script}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stderr.write(d);
    });
    child.stderr.on('data', (d) => process.stderr.write(d));
    child.on('close', (code) => resolve({ code, out, ms: Date.now() - started }));
  });
}

/** The lines of a bench's standard output (its results; progress goes to standard error), less npm's and JSON. */
export function resultLines(out: string): string[] {
  return out
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => l.trim() !== '' && !l.startsWith('>') && !/^\s*[[{]/.test(l));
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = BENCHES.filter((b) => wanted.length === 0 || wanted.includes(b));
  const started = new Date();
  const loadBefore = loadavg().map((n) => n.toFixed(1));
  const results: Array<{ name: string; code: number | null; lines: string[]; ms: number }> = [];
  for (const name of names) {
    process.stderr.write(`\n== bench:${name}\n`);
    const r = await run(name);
    const lines = resultLines(r.out);
    results.push({
      name,
      code: r.code,
      ms: r.ms,
      lines: r.code === 0 ? lines : [...lines.slice(-5), `exit code ${r.code}`],
    });
  }
  const cpu = cpus();
  const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GB, Linux ${release()}, Node ${process.version}`;
  console.log(`# npm run bench, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  console.log(`# ${machine}`);
  console.log(
    `# load average ${loadBefore.join(' ')} at the start, ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')} at the end`,
  );
  for (const r of results) {
    console.log('');
    console.log(
      `## bench:${r.name} (${(r.ms / 1000).toFixed(0)} s${r.code === 0 ? '' : `, FAILED with exit code ${r.code}`})`,
    );
    for (const line of r.lines) console.log(line);
  }
  process.exit(results.every((r) => r.code === 0) ? 0 : 1);
}

await main();
