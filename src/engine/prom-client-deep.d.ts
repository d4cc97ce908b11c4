/**
 * Types for the prom-client files that metrics.ts imports one by one instead of the package's index (which
 * loads much more: see there). The package has no `exports` map, so its files can be imported by path; each
 * assigns one class to module.exports, the class that the index's types describe.
 */
declare module 'prom-client/lib/registry.js' {
  const Registry: typeof import('prom-client').Registry;
  export default Registry;
}

declare module 'prom-client/lib/gauge.js' {
  const Gauge: typeof import('prom-client').Gauge;
  export default Gauge;
}

declare module 'prom-client/lib/counter.js' {
  const Counter: typeof import('prom-client').Counter;
  export default Counter;
}

declare module 'prom-client/lib/histogram.js' {
  const Histogram: typeof import('prom-client').Histogram;
  export default Histogram;
}
