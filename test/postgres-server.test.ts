/** The PostgreSQL test helper itself: real servers, standbys, TLS, stopped by PID. */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCerts } from './helpers/certs.ts';
import { postgresBin, startPostgres, type PgServer } from './helpers/postgres.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

describe('postgres helper', () => {
  let primary: PgServer;

  it('finds the binaries', () => {
    expect(postgresBin()).toMatch(/^\/usr\/lib\/postgresql\/\d+\/bin$/);
  });

  it('starts a server that answers queries over its unix socket', async () => {
    primary = await startPostgres();
    expect(primary.host).toBe('127.0.0.1');
    expect(await primary.sql('select 1')).toBe('1');
    // The PID we hold is the postmaster's own (setpriv execs), so stopping by PID stops the server.
    expect(Number(readFileSync(join(primary.dir, 'postmaster.pid'), 'utf8').split('\n')[0])).toBe(primary.pid);
    expect(await connects(primary.port)).toBe(true);
  });

  it('creates roles and databases, and rejects bad SQL with psql stderr', async () => {
    await primary.sql(`create role app login password 'secret';\ncreate database appdb owner app;`);
    expect(await primary.sql(`select rolname from pg_roles where rolname = 'app'`)).toBe('app');
    expect(await primary.sql('select current_database()', 'appdb')).toBe('appdb');
    await expect(primary.sql('select * from no_such_table')).rejects.toThrow(/no_such_table/);
  });

  it('starts a streaming standby of it', async () => {
    await primary.sql('create table t (x int); insert into t values (42);');
    const standby = await startPostgres({ standbyOf: primary });
    expect(standby.port).not.toBe(primary.port);
    expect(await standby.sql('select pg_is_in_recovery()')).toBe('t');
    expect(await standby.sql('select x from t')).toBe('42');
    // It streams: a row written on the primary afterwards shows up on the standby.
    await primary.sql('insert into t values (43)');
    for (let i = 0; (await standby.sql('select count(*) from t')) !== '2'; i++) {
      expect(i).toBeLessThan(200);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(await primary.sql(`select state from pg_stat_replication`)).toBe('streaming');
    await standby.stop();
  });

  it('starts a standby that never accepts queries (hot_standby=off) with noWait', async () => {
    const standby = await startPostgres({ standbyOf: primary, settings: { hot_standby: 'off' }, noWait: true });
    expect(await connects(standby.port)).toBe(true);
    await expect(standby.sql('select 1')).rejects.toThrow(/not yet accepting connections|starting up|hot standby/i);
    await standby.stop();
    expect(alive(standby.pid)).toBe(false);
  });

  it('runs two servers at once, and stop() by PID leaves the process gone', async () => {
    const other = await startPostgres({ settings: { max_connections: '5' } });
    expect(other.port).not.toBe(primary.port);
    expect(await other.sql('show max_connections')).toBe('5');
    expect(await primary.sql('select 1')).toBe('1');
    expect(alive(other.pid)).toBe(true);
    await other.stop();
    await other.stop(); // idempotent
    expect(alive(other.pid)).toBe(false);
    expect(await connects(other.port)).toBe(false);
    expect(other.output()).toMatch(/database system is shut down/);
  });

  it('serves TLS', async () => {
    const certs = await makeCerts();
    const tls = await startPostgres({ tls: { certFile: certs.serverCert, keyFile: certs.serverKey } });
    expect(await tls.sql('show ssl')).toBe('on');
    await tls.stop();
  });

  it('starts on a given port', async () => {
    const port = primary.port;
    await primary.stop();
    expect(alive(primary.pid)).toBe(false);
    const again = await startPostgres({ port });
    expect(again.port).toBe(port);
    expect(await again.sql('select 1')).toBe('1');
    // left running: stopAll() stops it at the end of the file
  });
});
