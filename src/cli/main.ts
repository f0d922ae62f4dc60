import { runProgram } from './program.js';
import { type HeldSignals, keepLoadSignals } from './start-signals.js';

/**
 * The value of a secret. Piped in: all of standard input. Typed at a terminal: one line, not
 * echoed (the terminal is in raw mode while it is typed; Backspace works, Ctrl-C aborts).
 */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return readHidden();
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline (from echo or typing) is not part of the value.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function readHidden(): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve) => {
    let value = '';
    const done = (result: string | undefined) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (result === undefined) process.exit(130);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done(value);
        if (ch === '\u0003') return done(undefined);
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    // Echo off before the prompt: what is typed once the prompt shows is never displayed.
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
    process.stderr.write('Enter the value (it is not shown), then press Enter: ');
  });
}

/** `loadSignals`: the bin's keeper of a SIGTERM/SIGINT that arrived while the modules loaded. */
export async function main(argv: string[], loadSignals?: HeldSignals): Promise<void> {
  keepLoadSignals(loadSignals);
  // Output piped into `head` and the like: stop quietly when the reader goes away.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const code = await runProgram(argv, {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    readStdin,
    env: process.env,
  });
  // Long-running commands (run, sandbox) keep the process alive themselves and never return here.
  process.exitCode = code;
}
