/**
 * The only file that touches the process's state: argv, env, signals and the exit code. (builtin.ts only
 * fetches Node's modules and reads the clock from `process`.)
 */
import { run } from './commands/cli.ts';
import { openOutput } from './basics/output.ts';
import { Shutdown } from './commands/io.ts';

/**
 * Output that never holds the process (output.ts): a log pipe nobody reads delays neither the deadline nor a
 * signal; what it cannot take is dropped in whole lines, and the exit code and the termination message
 * (written to its own file) stay right.
 */
const stdout = openOutput(1);
const stderr = openOutput(2);

/** Exits with `code` after one last try to write what is queued, without waiting for any reader. */
function exitNow(code: number): never {
  stdout.flush();
  stderr.flush();
  process.exit(code);
}

const controller = new AbortController();
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) exitNow(signal === 'SIGINT' ? 130 : 143); // a second signal: no more waiting
    stopping = true;
    controller.abort(new Shutdown(signal));
  });
}

// No top-level await: the bundle is CommonJS (see scripts/build.ts).
void run({
  argv: process.argv.slice(2),
  env: process.env,
  stdout: (text) => stdout.write(text),
  stderr: (text) => stderr.write(text),
  // Opened only when read: a handle on standard input costs start-up time the wait does not need.
  stdin: () => process.stdin,
  signal: controller.signal,
}).then(async (code) => {
  // Everything run() opened is closed by now; exiting here also bounds the time to exit after the deadline.
  // The lines still queued get as long as the reader keeps taking them (a stuck one costs 200 ms at most).
  await Promise.all([stdout.drain(), stderr.drain()]);
  if (stdout.dropped > 0) stderr.write(`harbor-wait: ${stdout.dropped} log line${stdout.dropped === 1 ? ' was' : 's were'} dropped: standard output was not read\n`);
  exitNow(code);
});
