/**
 * Redis readiness as Harbor sees it: connect (TLS for rediss, verified), AUTH when a password is given,
 * SELECT when db ≠ 0, PING answered PONG. Sentinel: ask the sentinels in order for the master, confirm
 * with ROLE that it is one, then the same. RESP is spoken by resp.ts on a socket dial() opened; nothing
 * reconnects or queues, so only the waiter decides when to try again.
 */
import { abortable } from '../abort.ts';
import { dial, hostPort, tlsOptions } from '../dial.ts';
import { classify, firstLine, NotReady, ProtocolError, type Stage } from '../errors.ts';
import type { ConnectionOptions } from 'node:tls';
import type { RedisSpec } from './redis-url.ts';
import { ReplyError, respConnection, type Reply } from './resp.ts';
import type { Check, CheckContext, Progress, Ready } from './types.ts';

/** Reasons for the replies that mean "not ready"; anything else quotes the server's first line. */
const REPLY_REASONS: Record<string, string> = {
  LOADING: 'is loading its dataset into memory',
  BUSY: 'is busy running a script or function',
  MASTERDOWN: "is a replica whose link to its master is down",
  NOAUTH: 'requires a password, but the URL gives none (write it as redis://:PASSWORD@host)',
  WRONGPASS: 'rejected the user name or password in the URL',
  NOPERM: 'refused the command for this ACL user',
  TRYAGAIN: 'asked to try again',
  CLUSTERDOWN: 'reports its cluster down',
};

interface Connection {
  readonly address: string;
  command(args: [string, ...Array<string | number>], stage: Stage): Promise<Reply>;
  close(): void;
}

interface OpenOptions {
  readonly host: string;
  readonly port: number;
  /** How the peer is named in reasons, e.g. `sentinel 10.0.0.1:26379`. */
  readonly peer: string;
  readonly spec: RedisSpec;
  readonly ctx: CheckContext;
  /** For rediss: the TLS options, built once per check. */
  readonly tls: Promise<ConnectionOptions> | undefined;
  readonly signal: AbortSignal;
  readonly progress: Progress;
}

async function open(o: OpenOptions): Promise<Connection> {
  const { socket, address } = await dial({
    host: o.host,
    port: o.port,
    tls: await o.tls,
    lookup: o.ctx.lookup,
    signal: o.signal,
    progress: o.progress,
  });
  const resp = respConnection(socket);
  const command = async ([name, ...args]: [string, ...Array<string | number>], stage: Stage): Promise<Reply> => {
    o.progress.stage = stage;
    let reply: Reply;
    try {
      reply = await abortable(resp.command([name, ...args]), o.signal);
    } catch (err) {
      if (o.signal.aborted) throw o.signal.reason;
      throw replyError(err, stage, o.peer, name, o.spec.tls);
    }
    if (reply instanceof ReplyError) throw replyError(reply, stage, o.peer, name, o.spec.tls);
    return reply;
  };
  return { address, command, close: () => socket.destroy() };
}

/** Maps an error reply (`-LOADING ...`) or a lost connection to NotReady. Never includes command arguments. */
function replyError(err: unknown, stage: Stage, peer: string, command: string, tls: boolean): NotReady {
  if (err instanceof ReplyError) {
    const code = /^[A-Z][A-Z_]+(?=\s|$)/.exec(err.message)?.[0] ?? 'ERR';
    const known = REPLY_REASONS[code];
    const reason = known ? `${peer} ${known}` : `${peer} answered ${command} with "${firstLine(err.message)}"`;
    return new NotReady(code === 'WRONGPASS' || code === 'NOAUTH' ? 'auth' : stage, code, reason);
  }
  if (err instanceof ProtocolError) {
    const hint = !tls && err.code === 'NOT_REDIS' ? ' (if that port speaks TLS, use rediss://)' : '';
    return new NotReady(stage, err.code, `${peer} ${err.message}${hint}`);
  }
  const notReady = classify(err, stage, peer);
  // A TLS port closes or resets a connection that does not start with a TLS handshake.
  if ((notReady.code === 'CONNECTION_CLOSED' || notReady.code === 'ECONNRESET') && !tls) {
    return new NotReady(notReady.stage, notReady.code, `${notReady.reason} (if that port speaks TLS, use rediss://)`);
  }
  return notReady;
}

/** AUTH (when a password is given), then what `middle` adds, then SELECT (db ≠ 0) and PING. */
async function confirm(conn: Connection, spec: RedisSpec, peer: string, middle?: () => Promise<void>): Promise<void> {
  if (spec.password !== undefined) {
    const auth: [string, ...string[]] = spec.username ? ['AUTH', spec.username, spec.password] : ['AUTH', spec.password];
    await conn.command(auth, 'auth');
  }
  await middle?.();
  if (spec.db !== 0) await conn.command(['SELECT', spec.db], 'response');
  const pong = await conn.command(['PING'], 'response');
  if (pong !== 'PONG') {
    throw new NotReady('response', 'UNEXPECTED_REPLY', `${peer} answered PING with something other than PONG`);
  }
}

/** Asks the sentinels in order for the master's address; the next on any failure. */
async function findMaster(o: Omit<OpenOptions, 'host' | 'port' | 'peer'>): Promise<{ host: string; port: number }> {
  const name = o.spec.masterName as string;
  let last: NotReady | undefined;
  for (const s of o.spec.hosts) {
    const peer = `sentinel ${hostPort(s.host, s.port)}`;
    try {
      const conn = await open({ ...o, host: s.host, port: s.port, peer });
      try {
        const reply = await conn.command(['SENTINEL', 'get-master-addr-by-name', name], 'response');
        if (Array.isArray(reply) && reply.length === 2) return { host: String(reply[0]), port: Number(reply[1]) };
        throw new NotReady('response', 'UNKNOWN_MASTER', `${peer} knows no master named "${name}"`);
      } finally {
        conn.close();
      }
    } catch (err) {
      if (o.signal.aborted) throw o.signal.reason;
      last = classify(err, o.progress.stage, peer);
    }
  }
  const tried = o.spec.hosts.length;
  if (last && tried > 1) {
    throw new NotReady(last.stage, last.code, `none of ${tried} sentinels gave the master; last: ${last.reason}`);
  }
  throw last as NotReady;
}

export function createRedisCheck(label: string, spec: RedisSpec, ctx: CheckContext): Check {
  const tls = spec.tls ? tlsOptions(ctx.tls, spec.skipVerify) : undefined;
  tls?.catch(() => {}); // a failure surfaces when an attempt awaits it
  return {
    target: label,
    async attempt(signal, progress): Promise<Ready> {
      const base = { spec, ctx, tls, signal, progress };
      if (!spec.sentinel) {
        const server = spec.hosts[0] as { host: string; port: number };
        const peer = hostPort(server.host, server.port);
        const conn = await open({ ...base, ...server, peer });
        try {
          await confirm(conn, spec, peer);
          return { address: conn.address };
        } finally {
          conn.close();
        }
      }
      const master = await findMaster(base);
      const peer = `master "${spec.masterName}" at ${hostPort(master.host, master.port)}`;
      const conn = await open({ ...base, ...master, peer });
      try {
        await confirm(conn, spec, peer, async () => {
          const role = await conn.command(['ROLE'], 'response');
          const kind = Array.isArray(role) ? String(role[0]) : 'unknown';
          if (kind !== 'master') {
            throw new NotReady(
              'response',
              'NOT_MASTER',
              `${peer} is a ${kind}, not a master: the sentinels' view is stale or a failover is under way`,
            );
          }
        });
        return { address: conn.address };
      } finally {
        conn.close();
      }
    },
  };
}
