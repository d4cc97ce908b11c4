/**
 * The bundle-time stubs (scripts/stubs.ts): each still stands for a module its library requires (a library
 * upgrade that moves a file would otherwise leave a stub that replaces nothing), a reached stub fails loudly
 * with its name, and the bundle's Redis command table holds exactly the commands it lists, as the installed
 * package defines them.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { OFF, REDIS_COMMANDS, STUBS, THROWER } from '../scripts/stubs.ts';

const require = createRequire(import.meta.url);

/** Evaluates a stub's source as CommonJS and returns its module.exports. */
function load(source: string): unknown {
  const module = { exports: {} as unknown };
  runInNewContext(source, { module, Proxy, Error, Object });
  return module.exports;
}

describe('bundle-time stubs', () => {
  it.each(STUBS.map((s) => [`${s.specifier} in ${s.importer}`, s] as const))('%s: the importer still requires it', (_, s) => {
    const file = readFileSync(require.resolve(s.importer), 'utf8');
    const specifier = s.specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    expect(file).toMatch(new RegExp(`require\\(["']${specifier}["']\\)`));
    expect(s.why.length).toBeGreaterThan(10);
  });

  it('a reached stub throws an error that names it and says it is a bug, whether called, constructed or read deeper', () => {
    const stub = load(THROWER('./cluster (required by ioredis/built/Redis.js)')) as Record<string, unknown> & (() => void);
    const message = /harbor-wait: \.\/cluster \(required by ioredis\/built\/Redis\.js\)(\.default)? was reached, but it is left out of the bundle .*a bug/;
    expect(() => stub()).toThrow(message);
    const Default = stub.default as new () => unknown;
    expect(() => new Default()).toThrow(message);
    expect(() => (stub.default as { connect: () => void }).connect()).toThrow(/\.default\.connect was reached/);
    // What a loader reads of it without using it does not throw.
    expect(stub.then).toBeUndefined();
    expect(stub.__esModule).toBeUndefined();
    expect({} instanceof (stub as unknown as new () => unknown)).toBe(false);
  });

  it('the debug stub is a logger that is off', () => {
    const debug = load(OFF) as (ns: string) => { (...a: unknown[]): void; enabled: boolean };
    const log = debug('ioredis:redis');
    expect(log.enabled).toBe(false);
    expect(log('anything')).toBeUndefined();
  });

  it('the Redis command table keeps the commands harbor-wait sends, each as @ioredis/commands defines it', () => {
    const all = JSON.parse(readFileSync(require.resolve('@ioredis/commands/built/commands.json'), 'utf8')) as Record<string, unknown>;
    for (const command of ['auth', 'select', 'ping', 'role']) expect(REDIS_COMMANDS).toContain(command);
    for (const command of REDIS_COMMANDS) expect(all[command], command).toBeDefined();
  });
});
