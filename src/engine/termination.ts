/**
 * The termination message: when a run ends in anything but success, a short plain-text summary written to the
 * file the kubelet reads into the container's status (`/dev/termination-log` by default), so that `kubectl
 * describe pod` says why an init container gave up without anyone reading its logs. Written only when the file
 * already exists (the kubelet creates it; outside Kubernetes there is none), made of the same redacted labels and
 * scrubbed reasons as the log lines, and
 * bounded to the 4096 bytes the kubelet keeps.
 */
import { builtin } from '../basics/builtin.ts';
import type { Pending } from './log-events.ts';
import type { Logger } from './log.ts';

export const DEFAULT_TERMINATION_LOG = '/dev/termination-log';
/** The kubelet keeps at most 4096 bytes of a termination message. */
export const MAX_TERMINATION_BYTES = 4096;
const CUT = '\n[cut at 4096 bytes]\n';

/** The outcome in one line, then each pending target with its stage, code and reason. */
export function terminationText(head: string, pending: readonly Pending[] = []): string {
  const lines = pending.map((p) => `${p.target} (${p.stage ?? '-'}, ${p.code ?? '-'}): ${p.reason}`);
  return `${[`harbor-wait: ${head}${pending.length > 0 ? '; not ready:' : ''}`, ...lines].join('\n')}\n`;
}

/** `text` in at most `max` bytes of UTF-8, cut with a marker when it is longer. */
export function bounded(text: string, max = MAX_TERMINATION_BYTES): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= max) return text;
  // A character cut in two decodes to U+FFFD at the end: drop it.
  const kept = bytes.subarray(0, max - Buffer.byteLength(CUT)).toString('utf8').replace(/\uFFFD+$/, '');
  return `${kept}${CUT}`;
}

/**
 * Replaces the contents of `path` with `text` when the file exists. Returns why it could not be written (an
 * errno code), or undefined when it was written or there is no such file.
 */
export function writeTerminationLog(path: string, text: string): string | undefined {
  const fs = builtin('node:fs');
  let fd: number;
  try {
    fd = fs.openSync(path, 'r+');
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'error';
    return code === 'ENOENT' ? undefined : code;
  }
  try {
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, bounded(text));
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? 'error';
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes the termination message when the run did not succeed; a failure to write is only a debug line. */
export function terminate(path: string | null, text: string, log: Logger | undefined): void {
  if (path === null) return;
  const problem = writeTerminationLog(path, text);
  if (problem) log?.log('debug', 'termination_log', { path, code: problem }, `could not write the termination message to ${path} (${problem})`);
}
