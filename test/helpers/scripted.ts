/** Scripted checks and a log recorder, for testing the waiter and the monitor without a network. */
import { NotReady, type Stage, type Progress } from '../../src/basics/errors.ts';
import type { LogEvent, Logger } from '../../src/engine/log.ts';
import type { Check, Ready } from '../../src/protocols/types.ts';

export interface Line {
  level: string;
  event: LogEvent;
  fields: Record<string, unknown>;
  msg: string;
}

export function recorder(): Logger & { lines: Line[]; events(e: LogEvent): Line[] } {
  const lines: Line[] = [];
  return {
    lines,
    log: (level, event, fields, msg) => lines.push({ level, event, fields, msg }),
    events: (e) => lines.filter((l) => l.event === e),
  };
}

export type Step = NotReady | 'ready' | { hangAt: Stage } | Error;

/** A check that plays `steps` in order (the last one repeats), counting attempts and open "connections". */
export function scripted(target: string, steps: Step[]): Check & { attempts: number; open: number } {
  const check = {
    target,
    attempts: 0,
    open: 0,
    async attempt(signal: AbortSignal, progress: Progress): Promise<Ready> {
      const step = steps[Math.min(check.attempts, steps.length - 1)] as Step;
      check.attempts++;
      check.open++;
      try {
        if (step === 'ready') return { address: '127.0.0.1:1' };
        if (step instanceof NotReady || step instanceof Error) throw step;
        progress.stage = step.hangAt;
        await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
        throw new Error('unreachable');
      } finally {
        check.open--;
      }
    },
  };
  return check;
}
