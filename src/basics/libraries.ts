/**
 * Which of the libraries loaded on demand a run has loaded. The module that imports one (protocols/redis/check.ts:
 * ioredis, protocols/http/check.ts: undici, protocols/postgres/check.ts: pg, engine/metrics.ts: prom-client, engine/log-pretty.ts: pino-pretty, config/presets.ts: yaml) calls
 * loaded() at its top level, or right after its import(); esbuild runs a module's top level only when it is
 * first imported, so these messages name the libraries a run has paid for. They go to Node's diagnostics
 * channel `harbor-wait:library`, where tools that observe a process look (the start-up test subscribes);
 * nothing is printed.
 */
import { builtin } from './builtin.ts';

export type OnDemandLibrary = 'ioredis' | 'undici' | 'pg' | 'prom-client' | 'pino-pretty' | 'yaml';

export const LIBRARY_CHANNEL = 'harbor-wait:library';

export function loaded(library: OnDemandLibrary): void {
  builtin('node:diagnostics_channel').channel(LIBRARY_CHANNEL).publish({ library });
}
