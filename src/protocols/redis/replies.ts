/**
 * The codes of Redis error replies, as a closed list, and the words of a reply made safe to quote. Light (no
 * library): the check (check.ts), the diagnosis (diagnosis.ts) and the list of every code harbor-wait
 * prints read it.
 *
 * A Redis error reply begins with a word that says what kind of error it is (`-LOADING Redis is loading...`).
 * The code harbor-wait prints is that word only when it is one of the prefixes Redis and Valkey themselves
 * send (read from their sources: the shared replies in server.c and every `addReplyError("-<CODE> ...")`, in
 * Redis 7.4 and Valkey 8.0); any other first word — a proxy's, a fork's, a module's, one that varies from
 * reply to reply — is `ERR`, and the server's words stay in the reason. So a peer cannot make a new code, nor
 * a new /metrics series, per attempt.
 */
import { scrubText } from '../../basics/redact.ts';

/** Every prefix of an error reply Redis 7.4 and Valkey 8.0 send, with what it means. */
export const REDIS_ERROR_CODES = {
  ERR: 'a generic error, or a reply whose first word is not one of Redis\'s own prefixes (the reason quotes it)',
  WRONGTYPE: 'an operation against a key holding the wrong kind of value',
  NOSCRIPT: 'no script with that SHA1 (EVALSHA)',
  LOADING: 'the server is loading its dataset into memory',
  BUSY: 'the server is busy running a script, a function or a module command',
  MASTERDOWN: 'a replica whose link to its master is down, with replica-serve-stale-data no',
  MISCONF: 'writes (and PING) refused because the last save to disk failed',
  READONLY: 'a write sent to a read-only replica',
  NOAUTH: 'authentication required',
  WRONGPASS: 'wrong user name or password, or the user is disabled',
  NOPERM: 'the ACL user may not run this command or touch this key',
  OOM: 'a command refused at maxmemory',
  EXECABORT: 'a transaction discarded because of an earlier error',
  NOREPLICAS: 'not enough good replicas to accept a write (min-replicas-to-write)',
  BUSYKEY: 'the target key already exists',
  NOPROTO: 'an unsupported protocol version (HELLO)',
  UNBLOCKED: 'a blocked client was unblocked',
  IOERR: 'an I/O error while migrating keys between cluster nodes',
  CROSSSLOT: 'keys of one request in different hash slots',
  TRYAGAIN: 'a multi-key request during a slot migration: try again',
  CLUSTERDOWN: 'the cluster is down, or the hash slot is not served',
  MOVED: 'the hash slot is served by another cluster node',
  ASK: 'the hash slot is being migrated: ask another cluster node',
  NOMASTERLINK: 'a replica asked to sync while it has no link to its master',
  NOTBUSY: 'no script is running (SCRIPT KILL)',
  UNKILLABLE: 'the running script cannot be killed',
  INPROG: 'a Sentinel failover is already in progress',
  NOGOODSLAVE: 'no replica fit to be promoted (Sentinel)',
  NOQUORUM: 'not enough Sentinels to reach the quorum',
  DENIED: 'protected mode: no password is set, so clients from other hosts are refused',
  INVALIDOBJ: 'a corrupted HyperLogLog value',
  NOGROUP: 'no such stream consumer group',
  BUSYGROUP: 'the stream consumer group already exists',
  REDIRECT: 'a Valkey replica sends the client to its primary',
  NOSUB: 'a command that needs subscribed mode (Valkey)',
} as const satisfies Record<string, string>;

export type RedisErrorCode = keyof typeof REDIS_ERROR_CODES;

/** The code of an error reply's text (`LOADING Redis is loading...` → `LOADING`): one of REDIS_ERROR_CODES. */
export function redisErrorCode(message: string): RedisErrorCode {
  const word = /^-?([A-Z]+)(?=[\s]|$)/.exec(message)?.[1];
  return word !== undefined && Object.hasOwn(REDIS_ERROR_CODES, word) ? (word as RedisErrorCode) : 'ERR';
}

/** How much of a peer's text a reason quotes. */
const QUOTE_CHARS = 200;

/** `text` scrubbed of secrets, then printable ASCII only, and at most `max` characters. */
export function safeText(text: string, max = QUOTE_CHARS): string {
  const printable = scrubText(text).replace(/[^\x20-\x7e]/g, '.');
  return printable.length > max ? `${printable.slice(0, max)}...` : printable;
}

/**
 * The first line of an error reply, safe to quote: without what Redis echoes of the command's arguments
 * (`unknown command 'AUTH', with args beginning with: 'the-password'`), scrubbed, printable and bounded.
 */
export function replyText(message: string): string {
  const line = (message.split(/\r?\n/, 1)[0] ?? '').replace(/, with args beginning with:.*$/s, '');
  return safeText(line);
}

/**
 * A reply of any shape as a short quote for a reason: `nil`, `"text"`, `42`, `["127.0.0.1", "NaN"]`, an error
 * element as `-ERR ...`. Scrubbed and bounded (at most 120 characters).
 */
export function describeReply(reply: unknown): string {
  const render = (value: unknown, depth: number): string => {
    if (value === null || value === undefined) return 'nil';
    if (typeof value === 'number' || typeof value === 'bigint') return String(value);
    // Each string scrubbed before it is escaped, so that a secret holding a quote or a backslash is still found.
    if (typeof value === 'string') return JSON.stringify(scrubText(value).slice(0, 160));
    if (Buffer.isBuffer(value)) return JSON.stringify(scrubText(value.toString('latin1')).slice(0, 160));
    if (value instanceof Error) return `-${replyText(value.message)}`;
    if (Array.isArray(value)) {
      if (depth > 2) return '[...]';
      const shown = value.slice(0, 8).map((v) => render(v, depth + 1));
      return `[${shown.join(', ')}${value.length > 8 ? ', ...' : ''}]`;
    }
    return typeof value;
  };
  return safeText(render(reply, 0), 120);
}
