import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, type LogFormat, type LogLevel } from '../src/engine/log.ts';
import { createPrettifier } from '../src/engine/log-pretty.ts';

const NOW = '2024-05-06T12:00:01.250Z';

async function capture(level: LogLevel, format: LogFormat = 'json') {
  const lines: string[] = [];
  const logger = await createLogger({ level, format }, (line) => lines.push(line));
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** The line the hand-written logger wrote before pino: what the JSON format must still write, byte for byte. */
function handWritten(level: LogLevel, event: string, fields: Record<string, unknown>, msg: string): string {
  return `${JSON.stringify({ level, time: NOW, event, ...fields, msg })}\n`;
}

/** Within a describe: Date reads NOW in every test, so whole lines can be compared. */
function atFixedTime(): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(NOW));
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

describe('createLogger, JSON format', () => {
  atFixedTime();

  it('writes one line per call: level as a word, ISO time, event, the fields in order, msg last', async () => {
    const { logger, lines } = await capture('info');
    logger.log('info', 'ready', { target: 'redis://h:6379', address: '10.0.0.5:6379' }, 'redis://h:6379 is ready');
    logger.log('warn', 'warning', {}, 'careful');
    expect(lines).toEqual([
      `{"level":"info","time":"${NOW}","event":"ready","target":"redis://h:6379","address":"10.0.0.5:6379","msg":"redis://h:6379 is ready"}\n`,
      `{"level":"warn","time":"${NOW}","event":"warning","msg":"careful"}\n`,
    ]);
  });

  it('writes nested values, numbers, null, dates and errors as JSON.stringify does', async () => {
    const { logger, lines } = await capture('info');
    const fields = {
      targets: [{ target: 'a', from: 'flag' }],
      settings: { deadline_ms: 300000, serve: null, once: false, factor: 1.5 },
      elapsed_ms: 12,
      nan: Number.NaN,
      skipped: undefined,
      at: new Date(0),
      err: new Error('no stack in the log'),
      quoted: 'a "b" \\c \u0001 é',
    };
    logger.log('error', 'failed', fields, 'msg with "quotes" and %s');
    expect(lines).toEqual([handWritten('error', 'failed', fields, 'msg with "quotes" and %s')]);
    expect(lines[0]).toContain('"err":{}');
  });

  it('property: writes the same bytes as the hand-written logger did', async () => {
    const { logger, lines } = await capture('debug');
    const key = fc.string({ unit: 'binary', maxLength: 8 }).filter((k) => !['level', 'time', 'event', 'msg'].includes(k));
    const levels = fc.constantFrom<LogLevel>('debug', 'info', 'warn', 'error');
    await fc.assert(
      fc.asyncProperty(levels, fc.dictionary(key, fc.jsonValue({ stringUnit: 'binary' })), fc.string({ unit: 'binary' }), async (level, fields, msg) => {
        lines.length = 0;
        logger.log(level, 'not_ready', fields, msg);
        expect(lines).toEqual([handWritten(level, 'not_ready', fields, msg)]);
      }),
    );
  });

  it('writes every level as a word, and no pid or hostname', async () => {
    const { logger, parsed } = await capture('debug');
    for (const level of ['debug', 'info', 'warn', 'error'] as const) logger.log(level, 'start', {}, level);
    expect(parsed().map((o) => o.level)).toEqual(['debug', 'info', 'warn', 'error']);
    for (const obj of parsed()) expect(Object.keys(obj)).toEqual(['level', 'time', 'event', 'msg']);
  });

  it('respects the level: debug is hidden at info', async () => {
    const { logger, parsed } = await capture('info');
    logger.log('debug', 'not_ready', {}, 'hidden');
    logger.log('info', 'waiting', {}, 'shown');
    expect(parsed().map((o) => o.msg)).toEqual(['shown']);
  });

  it('respects the level: only errors at error', async () => {
    const { logger, parsed } = await capture('error');
    logger.log('info', 'start', {}, 'a');
    logger.log('warn', 'warning', {}, 'b');
    logger.log('error', 'failed', {}, 'c');
    expect(parsed().map((o) => o.msg)).toEqual(['c']);
  });
});

describe('createLogger, pretty format', () => {
  atFixedTime();

  it('writes time of day (UTC), level and message, then the key fields the message lacks', async () => {
    const { logger, lines } = await capture('info', 'pretty');
    logger.log('info', 'done', { targets: 1, elapsed_ms: 5 }, 'the target is ready after 5ms');
    logger.log('warn', 'not_ready', { target: 'redis://h:6379', stage: 'connect', code: 'ECONNREFUSED', retry_in_ms: 200 }, 'not ready');
    logger.log('info', 'ready', { target: 'redis://h:6379', address: '10.0.0.5:6379' }, 'redis://h:6379 is ready');
    logger.log('error', 'config_error', { input: '--deadline' }, '--deadline: "soon" is not a duration');
    expect(lines).toEqual([
      '12:00:01.250 INFO: the target is ready after 5ms\n',
      '12:00:01.250 WARN: not ready  target=redis://h:6379 stage=connect code=ECONNREFUSED\n',
      '12:00:01.250 INFO: redis://h:6379 is ready\n',
      '12:00:01.250 ERROR: --deadline: "soon" is not a duration\n',
    ]);
  });

  it('respects the level, writes every level, and no colours', async () => {
    const { logger, lines } = await capture('debug', 'pretty');
    for (const level of ['debug', 'info', 'warn', 'error'] as const) logger.log(level, 'start', {}, level);
    expect(lines.map((l) => l.slice(13))).toEqual(['DEBUG: debug\n', 'INFO: info\n', 'WARN: warn\n', 'ERROR: error\n']);
    expect(lines.join('')).not.toContain('\u001b');
    const quiet = await capture('warn', 'pretty');
    quiet.logger.log('info', 'start', {}, 'hidden');
    expect(quiet.lines).toEqual([]);
  });

  it('does not show fields named like pino metadata as metadata', async () => {
    const { logger, lines } = await capture('info', 'pretty');
    logger.log('info', 'start', { name: 'x', pid: 1, hostname: 'h', caller: 'c' }, 'hello');
    expect(lines).toEqual(['12:00:01.250 INFO: hello\n']);
  });
});

describe('createPrettifier', () => {
  it('passes a line that is not JSON through', async () => {
    const pretty = await createPrettifier();
    expect(pretty('not json at all')).toBe('not json at all\n');
  });

  it('shows the time of day in UTC with milliseconds', async () => {
    const pretty = await createPrettifier();
    expect(pretty('{"level":"error","time":"2024-05-06T23:59:59.999Z","event":"failed","msg":"x"}\n')).toBe('23:59:59.999 ERROR: x\n');
  });
});
