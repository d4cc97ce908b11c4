/** Real redis-server and redis-sentinel processes on loopback, on free ports. */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Redis, type RedisOptions as IoRedisOptions } from 'ioredis';
import type { Certs } from './certs.ts';
import { freePort, startProcess, tempDir, waitForPort, type Started } from './processes.ts';

export interface RedisServer {
  readonly port: number;
  readonly dir: string;
  readonly process: Started;
  /** An admin connection (given the password when one is set); closed by stop(). */
  admin(): Redis;
  stop(): Promise<void>;
}

export interface RedisOptions {
  /** More redis-server arguments, e.g. ['--requirepass', 'pw']. */
  readonly args?: readonly string[];
  /** Serve TLS only, with these certificates. */
  readonly tls?: Certs;
  /** Reuse a directory (its dump.rdb is loaded at start). */
  readonly dir?: string;
  /** Use this port (e.g. to start a server late on a port already handed out). */
  readonly port?: number;
  /** Password for admin(). */
  readonly password?: string;
}

/**
 * An admin connection to 127.0.0.1:`port`, kept in `admins` for stop() to close: no retries, plain RESP2 and no
 * CLIENT SETINFO, so that it can still talk to a server answering BUSY.
 */
function adminClient(admins: Redis[], port: number, extra: IoRedisOptions = {}): Redis {
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => null, protocol: 2, disableClientInfo: true, ...extra });
  client.on('error', () => {});
  admins.push(client);
  return client;
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const dir = options.dir ?? tempDir('harbor-wait-redis-');
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const listen = options.tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.serverCert, '--tls-key-file', options.tls.serverKey, '--tls-ca-cert-file', options.tls.caCert, '--tls-auth-clients', 'no']
      : ['--port', String(port)];
    const proc = await startProcess('redis-server', [
      ...listen,
      '--bind', '127.0.0.1',
      '--dir', dir,
      '--save', '',
      '--appendonly', 'no',
      '--protected-mode', 'no',
      '--daemonize', 'no',
      '--logfile', '',
      ...(options.args ?? []),
    ]);
    try {
      await waitForPort(port, 10_000, proc.child);
    } catch (err) {
      await proc.stop();
      if (attempt < 3 && options.port === undefined && /in use/i.test(proc.output())) continue;
      throw new Error(`redis-server did not start: ${(err as Error).message}\n${proc.output()}`);
    }
    const admins: Redis[] = [];
    return {
      port,
      dir,
      process: proc,
      admin() {
        return adminClient(admins, port, {
          ...(options.password ? { password: options.password } : {}),
          ...(options.tls ? { tls: { ca: options.tls.caPem, servername: 'localhost' } } : {}),
        });
      },
      async stop() {
        for (const a of admins) a.disconnect();
        await proc.stop();
      },
    };
  }
}

/** Number of clients connected to `server`, not counting the admin connection asking. */
export async function otherClients(admin: Redis): Promise<number> {
  const info = await admin.info('clients');
  const n = Number(/connected_clients:(\d+)/.exec(info)?.[1]);
  return n - 1;
}

/** One field of one INFO section, as the server says it now. */
export async function infoField(admin: Redis, section: string, field: string): Promise<string | undefined> {
  const info = await admin.info(section);
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** `n` raw TCP connections to `port`, held open (each one a client of the server) until close(). */
export async function holdConnections(port: number, n: number): Promise<{ close(): void }> {
  const sockets = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
      socket.on('error', reject);
    })),
  );
  for (const socket of sockets) socket.on('error', () => {});
  return { close: () => sockets.forEach((s) => s.destroy()) };
}

/**
 * A server that spends about `seconds` loading its dataset at start and answers -LOADING meanwhile:
 * a real dump.rdb is written first, then loaded with a per-key delay (redis' own key-load-delay).
 * `options` adds arguments (e.g. --requirepass) to the loading server.
 */
export async function startLoadingRedis(seconds: number, options: Pick<RedisOptions, 'args' | 'password'> = {}): Promise<RedisServer> {
  const keys = 2000;
  const seed = await startRedis();
  const admin = seed.admin();
  const pipeline = admin.pipeline();
  for (let i = 0; i < keys; i++) pipeline.set(`key:${i}`, 'x'.repeat(16));
  await pipeline.exec();
  await admin.save();
  await seed.stop();
  return startRedis({
    dir: seed.dir,
    args: ['--key-load-delay', String(Math.round((seconds * 1e6) / keys)), '--loading-process-events-interval-bytes', '1024', ...(options.args ?? [])],
    ...(options.password !== undefined ? { password: options.password } : {}),
  });
}

export interface Sentinel {
  readonly port: number;
  readonly process: Started;
  /** A connection to the sentinel itself (no AUTH); closed by stop(). */
  admin(): Redis;
  stop(): Promise<void>;
}

/**
 * A redis-sentinel told that `masterName` is the server at `masterPort` (which may really be a replica). With
 * `password` it can talk to the master and its replicas, and so promote a replica when told to (`SENTINEL
 * FAILOVER`). Its down-after is long, so that no failover starts unless a test asks for one. With `masterHost`
 * (a name, e.g. `localhost`) it knows the master by that name and names it so (resolve- and announce-hostnames).
 */
export async function startSentinel(masterName: string, masterPort: number, o: { password?: string; masterHost?: string } = {}): Promise<Sentinel> {
  const dir = tempDir('harbor-wait-sentinel-');
  const port = await freePort();
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      'logfile ""',
      ...(o.masterHost !== undefined ? ['sentinel resolve-hostnames yes', 'sentinel announce-hostnames yes'] : []),
      `sentinel monitor ${masterName} ${o.masterHost ?? '127.0.0.1'} ${masterPort} 1`,
      ...(o.password !== undefined ? [`sentinel auth-pass ${masterName} ${o.password}`] : []),
      `sentinel down-after-milliseconds ${masterName} 60000`,
      `sentinel failover-timeout ${masterName} ${o.password !== undefined ? 10000 : 180000}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const proc = await startProcess('redis-sentinel', [conf]);
  try {
    await waitForPort(port, 10_000, proc.child);
  } catch (err) {
    await proc.stop();
    throw new Error(`redis-sentinel did not start: ${(err as Error).message}\n${proc.output()}`);
  }
  const admins: Redis[] = [];
  return {
    port,
    process: proc,
    admin() {
      return adminClient(admins, port);
    },
    async stop() {
      for (const a of admins) a.disconnect();
      await proc.stop();
    },
  };
}
