/**
 * One attempt of one check, bounded by the attempt timeout: the piece the waiter (waiter.ts) and the sidecar's
 * monitor (monitor.ts) share. A dependency that is not ready comes out as NotReady; a bug as itself.
 */
import { timeoutController } from '../basics/abort.ts';
import { formatDuration } from '../basics/duration.ts';
import { isBug, type Progress } from '../basics/errors.ts';
import { classify, stageTimeout } from '../net/classify.ts';
import type { Check, Ready } from '../protocols/types.ts';

const ATTEMPT_TIMEOUT = Symbol('attempt timeout');

/**
 * Runs `check` once. Resolves with what it reached. Rejects with `run.reason` when `run` aborts, with
 * NotReady when the dependency is not ready (a timeout names the stage it cut short), and with the error
 * itself when it is a bug.
 */
export async function attemptOnce(check: Check, run: AbortSignal, timeoutMs: number): Promise<Ready> {
  const progress: Progress = { stage: 'connect' };
  const timeout = timeoutController(timeoutMs, () => ATTEMPT_TIMEOUT);
  const signal = AbortSignal.any([run, timeout.signal]);
  try {
    return await check.attempt(signal, progress);
  } catch (err) {
    if (run.aborted) throw run.reason;
    if (timeout.signal.aborted) {
      throw stageTimeout(progress.stage, `the ${formatDuration(timeoutMs)} attempt timeout`);
    }
    if (isBug(err)) throw err;
    throw classify(err, progress.stage, check.target);
  } finally {
    timeout.clear();
  }
}
