/**
 * Node's built-in modules, fetched with process.getBuiltinModule where they are used. An ES `import` of a
 * built-in builds a module facade that reads every export, and node:http's lazy exports (WebSocket,
 * EventSource) load Node's internal copy of undici: 35 ms of a 30 ms budget, measured with --cpu-prof.
 * This returns the plain module object instead, and only when a code path first needs it.
 */
export const builtin = process.getBuiltinModule;

/**
 * Milliseconds on a monotonic clock, for durations. The global `performance` loads node:perf_hooks on
 * first use (2 ms of start-up); process.hrtime is already there.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
