/**
 * Bundle-time stubs: modules of the libraries that harbor-wait never reaches, replaced in the bundle so that
 * they are neither parsed nor run at start-up. Each entry names the module as the library requires it, the
 * library file that requires it, and why no path of harbor-wait's reaches it. A stub throws a clear error
 * the moment anything of it is called or constructed, so a path that does reach one fails loudly (and the
 * tests that run every target kind through the bundle would show it), never silently. test/stubs.test.ts
 * checks that each importer still requires its specifier, so a library upgrade cannot leave a stub stale.
 */
import type { Plugin } from 'esbuild';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface Stub {
  /** The specifier as the library writes it, e.g. `./cluster`. */
  readonly specifier: string;
  /** A path fragment of the requiring file, e.g. `ioredis/built/Redis.js`. */
  readonly importer: string;
  readonly why: string;
  /** `off`: a working no-op instead of a thrower (only for a debug logger that is read at load). */
  readonly kind?: 'throw' | 'off';
}

/**
 * The Redis commands harbor-wait sends (SENTINEL is not in the table: ioredis adds its method itself), and the
 * ones ioredis sends on a connection of its own accord (none with the options of src/protocols/redis/check.ts, kept so
 * that the table stays true for them). ioredis makes two methods of every command in @ioredis/commands' table
 * when it loads, about 600 closures and a third of the start-up time of a Redis target: the bundle carries the
 * table's entries for these commands only, taken from the installed package at build time. A method of any
 * other command is absent (`client.get` is not a function: a bug, exit 1 with its stack).
 */
export const REDIS_COMMANDS = ['auth', 'select', 'ping', 'role', 'hello', 'client', 'info', 'quit', 'readonly'];

export const STUBS: readonly Stub[] = [
  {
    specifier: './cluster',
    importer: 'ioredis/built/Redis.js',
    why: 'Redis Cluster client: harbor-wait talks to one server (or asks sentinels) per connection',
  },
  {
    specifier: './connectors',
    importer: 'ioredis/built/Redis.js',
    why: "ioredis's own connectors: every connection is opened by dial() and handed over through the Connector option",
  },
  {
    specifier: './connectors/SentinelConnector',
    importer: 'ioredis/built/Redis.js',
    why: "ioredis's sentinel connector: harbor-wait asks the sentinels itself, one connection per step, to name the step that failed",
  },
  {
    specifier: './ScanStream',
    importer: 'ioredis/built/Redis.js',
    why: 'SCAN as a stream: never sent',
  },
  {
    specifier: '../Script',
    importer: 'ioredis/built/utils/Commander.js',
    why: 'Lua scripts (defineCommand, and node:crypto for their SHA-1): never defined',
  },
  {
    specifier: 'debug',
    importer: 'ioredis/built/utils/debug.js',
    kind: 'off',
    why: "ioredis's DEBUG=ioredis:* output: it would write command traffic to stderr past the secret scrubber, so it stays off",
  },
  {
    specifier: 'assert',
    importer: 'redis-errors/lib/modern.js',
    why: "used only to construct redis-errors' ParserError, which ioredis 6 (its own RESP decoder) never does",
  },
  {
    specifier: './lib/old',
    importer: 'redis-errors/index.js',
    why: "redis-errors for Node.js < 7",
  },
  {
    specifier: './lib/transport',
    importer: 'pino/pino.js',
    why: "pino's transports (worker threads, thread-stream): every line is written synchronously to harbor-wait's own destination",
  },
  {
    specifier: './transport',
    importer: 'pino/lib/tools.js',
    why: "pino's transports, as above",
  },
  {
    specifier: 'sonic-boom',
    importer: 'pino/lib/tools.js',
    why: "pino's file destination: the destination is harbor-wait's own synchronous writer (pino only checks instanceof against it)",
  },
  {
    specifier: 'on-exit-leak-free',
    importer: 'pino/lib/tools.js',
    why: "flushing pino's asynchronous destinations at exit: there are none",
  },
  {
    specifier: 'worker_threads',
    importer: 'pino/lib/tools.js',
    why: "read for pino's asynchronous destinations only: there are none",
  },
  {
    specifier: '@pinojs/redact',
    importer: 'pino/lib/redaction.js',
    why: "pino's redact option: secrets are scrubbed from each whole line instead (src/engine/log.ts)",
  },
  {
    specifier: './lib/multistream',
    importer: 'pino/pino.js',
    why: 'pino.multistream: one stream only',
  },
  {
    specifier: 'node:http',
    importer: 'undici/lib/dispatcher/client.js',
    why: "read for http.maxHeaderSize, the default of maxHeaderSize, which harbor-wait always gives; loading node:http costs start-up time",
  },
  {
    specifier: 'node:http',
    importer: 'undici/lib/core/util.js',
    why: "its IncomingMessage is only compared with a stream undici destroys, and harbor-wait never hands undici one",
  },
  {
    specifier: './client-h2.js',
    importer: 'undici/lib/dispatcher/client.js',
    why: 'the HTTP/2 client (and node:http2): allowH2 is false',
  },
  {
    specifier: 'pgpass',
    importer: 'pg/lib/client.js',
    why: "reading ~/.pgpass, which pg does only when no password is given: harbor-wait always gives a password function",
  },
  {
    specifier: 'pg-connection-string',
    importer: 'pg/lib/connection-parameters.js',
    why: "pg's own connection-string parser: harbor-wait parses the URL itself and sets every option explicitly (pg reads sslmode=require as verify-full, pgx does not)",
  },
  {
    specifier: 'dns',
    importer: 'pg/lib/connection-parameters.js',
    why: 'used only to build the native binding\'s libpq string: names are resolved by dial()',
  },
  {
    specifier: './cert-signatures',
    importer: 'pg/lib/crypto/sasl.js',
    why: 'SCRAM channel binding (SCRAM-SHA-256-PLUS): off, as in pgx and libpq by default',
  },
];

/** A stub that throws, naming `what`, when anything of it is called or constructed. */
export const THROWER = (what: string) => `"use strict";
const fail = (name) => {
  throw new Error("harbor-wait: " + name + " was reached, but it is left out of the bundle (scripts/stubs.ts): this is a bug, please report it");
};
const stub = (name) =>
  new Proxy(function () {}, {
    apply: () => fail(name),
    construct: () => fail(name),
    get: (_, key) =>
      key === "prototype" ? {} : typeof key === "symbol" || key === "then" || key === "__esModule" ? undefined : stub(name + "." + String(key)),
  });
module.exports = stub(${JSON.stringify(what)});
`;

/** A working no-op debug logger. */
export const OFF = `"use strict";
const off = () => Object.assign(() => {}, { enabled: false, extend: off, log: () => {} });
module.exports = Object.assign(off, { default: off, enable() {}, disable() {}, enabled: () => false });
`;

/** The esbuild plugin that puts the stubs in place. */
export function stubPlugin(stubs: readonly Stub[] = STUBS): Plugin {
  return {
    name: 'harbor-wait-stubs',
    setup(b) {
      for (const [i, s] of stubs.entries()) {
        const filter = new RegExp(`^${s.specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
        b.onResolve({ filter }, (args) =>
          args.importer.replaceAll('\\', '/').includes(`node_modules/${s.importer}`) ? { path: String(i), namespace: 'harbor-wait-stub' } : undefined,
        );
      }
      // The command table, limited to REDIS_COMMANDS.
      b.onResolve({ filter: /^\.\/commands\.json$/ }, (args) =>
        args.importer.replaceAll('\\', '/').includes('node_modules/@ioredis/commands/') ? { path: 'commands', namespace: 'harbor-wait-redis-commands' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'harbor-wait-redis-commands' }, () => {
        const all = JSON.parse(readFileSync(require.resolve('@ioredis/commands/built/commands.json'), 'utf8')) as Record<string, unknown>;
        const kept = Object.fromEntries(REDIS_COMMANDS.map((c) => [c, all[c]]));
        return { contents: JSON.stringify(kept), loader: 'json' };
      });
      b.onLoad({ filter: /.*/, namespace: 'harbor-wait-stub' }, (args) => {
        const s = stubs[Number(args.path)] as Stub;
        return { contents: s.kind === 'off' ? OFF : THROWER(`${s.specifier} (required by ${s.importer})`), loader: 'js' };
      });
    },
  };
}
