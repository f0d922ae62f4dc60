/**
 * `ml-connector run` as a child process that the chaos suite kills with SIGKILL and starts again.
 * Its JSON log is appended to one file across restarts, so a failed run can be read afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { BIN } from '../helpers/cli.js';

export class ConnectorProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private readonly log: WriteStream;
  starts = 0;
  kills = 0;

  constructor(
    private readonly options: {
      configFile: string;
      cwd: string;
      env: NodeJS.ProcessEnv;
      logFile: string;
      healthUrl: string;
      /** Node flags before the script, e.g. `--expose-gc` (benches only). */
      nodeArgs?: string[];
      /** Opens an IPC channel to the child (`send`, `request`): only a bench probe listens on it. */
      ipc?: boolean;
    },
  ) {
    this.log = createWriteStream(options.logFile, { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts `run` and waits until `/healthz` answers (or the process exits). */
  async start(): Promise<void> {
    this.starts++;
    this.log.write(`\n=== chaos: start #${this.starts} at ${new Date().toISOString()}\n`);
    const args = [...(this.options.nodeArgs ?? []), BIN, 'run', '--config', this.options.configFile];
    const child = spawn(process.execPath, args, {
      cwd: this.options.cwd,
      env: this.options.env,
      stdio: this.options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    const until = Date.now() + 60_000;
    for (;;) {
      if (!this.running) throw new Error(`ml-connector run exited at start (see ${this.options.logFile})`);
      try {
        const res = await fetch(this.options.healthUrl, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > until)
        throw new Error(`ml-connector run not healthy after 60 s (see ${this.options.logFile})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Sends a message over the IPC channel (`ipc: true`) and waits for the first answer whose `type`
   * is `answerType`: the bench's probe in the child (bench/soak-probe.cjs) answers it.
   */
  async request<T>(
    message: { type: string } & Record<string, unknown>,
    answerType: string,
    timeoutMs = 120_000,
  ): Promise<T> {
    const child = this.child;
    if (!child || !this.running || typeof child.send !== 'function')
      throw new Error('no IPC channel to the connector');
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        reject(new Error(`no ${answerType} answer from the connector in ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (answer: unknown) => {
        if ((answer as { type?: unknown })?.type !== answerType) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(answer as T);
      };
      child.on('message', onMessage);
      child.send(message);
    });
  }

  /** SIGKILL: no shutdown, no logoff, jobs left running with their leases. */
  async kill(): Promise<void> {
    if (!this.child || !this.running) return;
    this.kills++;
    this.log.write(`\n=== chaos: SIGKILL #${this.kills} at ${new Date().toISOString()}\n`);
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /**
   * SIGTERM and the exit code (the graceful path). SIGKILL only past the default shutdownTimeout
   * (30 s) plus its grace and the closing of the server and store: a stop that uses its whole
   * timeout is not cut short here.
   */
  async stop(): Promise<number | null> {
    if (!this.child || !this.running) return this.child?.exitCode ?? null;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 40_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code ?? null;
  }

  close(): void {
    if (this.running) this.child?.kill('SIGKILL');
    this.log.end();
  }
}
