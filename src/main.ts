/**
 * The only file that touches the process's state: argv, env, signals and the exit code. (builtin.ts only
 * fetches Node's modules and reads the clock from `process`.)
 */
import { builtin } from './builtin.ts';
import { run, Shutdown } from './cli.ts';

/**
 * Synchronous, whole writes, so nothing is lost when the process exits right after. A reader that has gone
 * away (EPIPE) does not stop the wait: the exit code still tells the outcome.
 */
function writer(fd: number): (text: string) => void {
  return (text) => {
    const buffer = Buffer.from(text);
    let offset = 0;
    while (offset < buffer.length) {
      try {
        offset += builtin('node:fs').writeSync(fd, buffer, offset);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'EPIPE') return;
        if (code !== 'EAGAIN') throw err;
      }
    }
  };
}

const controller = new AbortController();
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(signal === 'SIGINT' ? 130 : 143); // a second signal: no more waiting
    stopping = true;
    controller.abort(new Shutdown(signal));
  });
}

// No top-level await: the bundle is CommonJS (see scripts/build.ts).
void run({
  argv: process.argv.slice(2),
  env: process.env,
  stdout: writer(1),
  stderr: writer(2),
  signal: controller.signal,
}).then((code) => {
  // Everything run() opened is closed by now; exiting here also bounds the time to exit after the deadline.
  process.exit(code);
});
