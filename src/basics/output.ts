/**
 * Standard output and error that never hold the process. A pipe nobody reads (a stuck log collector, a
 * container runtime's full FIFO, `harbor-wait | sleep`) takes 64 KiB and then blocks every write(2); a
 * blocking write in the event loop would stop the deadline's timer and the signal handlers with it. So a
 * pipe or socket is written without waiting: what it does not take now waits in a bounded queue, retried on
 * a timer, and when the queue is full the oldest whole lines that have not begun are dropped (a line is never
 * cut in the middle and followed by another). At exit, main.ts drains the queue for as long as the reader
 * keeps taking it, and gives up soon when it does not.
 *
 * How fd 1 behaves here (Linux, measured with Node 24): Node's child_process pipes are socketpairs, a shell
 * pipe and the FIFO a container runtime hands over are pipes; all three come blocking, and fs.writeSync
 * blocks once 64 KiB are unread. libuv makes a pipe or socket non-blocking when a handle opens it (as
 * process.stdout does): writeSync then throws EAGAIN instead, and Node puts the fd's flags back when the
 * process exits, so the shell or runtime that shares the pipe gets it back blocking. That is done once the
 * first 16 KiB have been written (BLOCKING_BYTES), which a fresh pipe always takes at once. A regular file, a
 * terminal and /dev/null are written as they are (a write to them does not wait on a reader).
 */
import type net from 'node:net';
import { builtin } from './builtin.ts';

export interface Output {
  /** Queues `text` (whole lines) and writes what the reader takes now; never waits. */
  write(text: string): void;
  /** One more try to write what is queued, without waiting. */
  flush(): void;
  /**
   * Resolves once everything queued is written, or when nothing more could be written for `stallMs`, or
   * after `maxMs` in all: what is still queued then is dropped.
   */
  drain(stallMs?: number, maxMs?: number): Promise<void>;
  /** Lines (whole write() calls) dropped so far because the reader fell behind (not those after it went away). */
  readonly dropped: number;
}

/**
 * Writes what it can of `buffer` from `offset` without waiting: the bytes written, or 0 when the reader is
 * behind. Throws when there is no reader any more (EPIPE) or the fd is unusable.
 */
export type TryWrite = (buffer: Buffer, offset: number) => number;

export interface OutputOptions {
  /** Bytes held while the reader is behind; beyond this, the oldest whole lines are dropped. */
  readonly maxQueuedBytes?: number;
  /** How often a queue is retried while the reader is behind. */
  readonly retryMs?: number;
}

/** 1 MiB: thousands of log lines, more than a reader that comes back needs, and a bound on memory. */
export const MAX_QUEUED_BYTES = 1 << 20;
const RETRY_MS = 50;
/** At exit: give up once the reader has taken nothing for this long, and in any case after DRAIN_MAX_MS. */
export const DRAIN_STALL_MS = 200;
export const DRAIN_MAX_MS = 2000;

/** A queue of whole writes in front of `tryWrite`. */
export function createOutput(tryWrite: TryWrite, options: OutputOptions = {}): Output {
  const maxBytes = options.maxQueuedBytes ?? MAX_QUEUED_BYTES;
  const retryMs = options.retryMs ?? RETRY_MS;
  const queue: Buffer[] = [];
  /** How much of queue[0] is already written (a write the reader took only part of). */
  let offset = 0;
  let queued = 0;
  let dropped = 0;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let progress = 0;

  const pump = (): void => {
    while (queue.length > 0) {
      const head = queue[0] as Buffer;
      let n: number;
      try {
        n = tryWrite(head, offset);
      } catch {
        // No reader any more (EPIPE), or an fd that cannot be written: the exit code still tells the outcome.
        closed = true;
        queue.length = 0;
        queued = 0;
        offset = 0;
        return;
      }
      if (n <= 0) break;
      progress++;
      offset += n;
      if (offset >= head.length) {
        queue.shift();
        queued -= head.length;
        offset = 0;
      }
    }
    if (queue.length > 0 && timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        pump();
      }, retryMs);
      // The queue never keeps the process alive: main.ts drains it at exit, for a bounded time.
      timer.unref();
    }
  };

  return {
    get dropped() {
      return dropped;
    },
    write(text) {
      if (closed) return;
      const buffer = Buffer.from(text);
      if (buffer.length > maxBytes) {
        dropped++;
        return;
      }
      // Room for the new line: drop the oldest whole lines that have not begun (queue[0] may have).
      const begun = offset > 0 ? 1 : 0;
      while (queued + buffer.length > maxBytes && queue.length > begun) {
        queued -= (queue[begun] as Buffer).length;
        queue.splice(begun, 1);
        dropped++;
      }
      if (queued + buffer.length > maxBytes) {
        dropped++;
        return;
      }
      queue.push(buffer);
      queued += buffer.length;
      if (queue.length === 1) pump();
    },
    flush: pump,
    async drain(stallMs = DRAIN_STALL_MS, maxMs = DRAIN_MAX_MS) {
      const until = Date.now() + maxMs;
      let seen = progress;
      let stalledSince = Date.now();
      pump();
      while (queue.length > 0 && !closed && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(retryMs, stallMs)));
        pump();
        if (progress !== seen) {
          seen = progress;
          stalledSince = Date.now();
        } else if (Date.now() - stalledSince >= stallMs) break;
      }
      clearTimeout(timer);
      timer = undefined;
      dropped += queue.length;
      queue.length = 0;
      queued = 0;
    },
  };
}

/** Handles that made an fd non-blocking; kept so that nothing ever closes them (and the fd with them). */
const opened: net.Socket[] = [];

/** Whether `fd` is a pipe or a socket: what can block on a reader (fs only, cheap). */
function pipeLike(fd: number): boolean {
  try {
    const stat = builtin('node:fs').fstatSync(fd);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false; // closed: every write fails, and is dropped
  }
}

/** Makes a pipe or socket `fd` non-blocking, through a libuv handle as process.stdout does. */
function makeNonBlocking(fd: number): void {
  try {
    const socket = new (builtin('node:net').Socket)({ fd, readable: false, writable: true });
    socket.unref();
    opened.push(socket);
  } catch {
    // A kind of fd libuv does not open (UDP, unknown): written as it is.
  }
}

/**
 * Bytes written to a pipe or socket as they come before it is made non-blocking. A pipe takes 64 KiB before a
 * write waits (a socketpair more), so these can never wait on a fresh one; and --version, --help or a
 * configuration error never load node:net (1.5 ms of start-up) for it.
 */
export const BLOCKING_BYTES = 16 * 1024;

/** Standard output or error (fd 1 or 2) as an Output. */
export function openOutput(fd: number, options: OutputOptions = {}): Output {
  const fs = builtin('node:fs');
  let budget = pipeLike(fd) ? BLOCKING_BYTES : Infinity;
  return createOutput((buffer, offset) => {
    if (budget !== Infinity && buffer.length - offset > budget) {
      makeNonBlocking(fd);
      budget = Infinity;
    }
    try {
      const n = fs.writeSync(fd, buffer, offset);
      if (budget !== Infinity) budget -= n;
      return n;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EAGAIN' || code === 'EINTR') return 0; // the reader is behind: later
      throw err;
    }
  }, options);
}
