/**
 * A test instrument for the entry's code cache, preloaded with NODE_OPTIONS=--require: it reports on stderr, as
 * the process exits, every script compiled through node:vm (as the entry compiles the program), whether it was
 * handed a code cache and whether V8 rejected it. compiled() reads those reports back.
 */
export const VM_OBSERVER = `
const vm = require('node:vm');
const Script = vm.Script;
vm.Script = class extends Script {
  constructor(source, options) {
    super(source, options);
    const seen = { filename: options?.filename ?? null, cachedData: options?.cachedData !== undefined, rejected: this.cachedDataRejected ?? null };
    process.on('exit', () => require('node:fs').writeSync(2, 'vm.Script ' + JSON.stringify(seen) + '\\n'));
  }
};
`;

/** The prefix of the observer's lines on stderr. */
export const VM_LINE = 'vm.Script ';

export interface Compiled {
  readonly filename: string | null;
  readonly cachedData: boolean;
  readonly rejected: boolean | null;
}

/** What the entry compiled through node:vm, as VM_OBSERVER reported it on stderr. */
export function compiled(stderr: string): Compiled[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith(VM_LINE))
    .map((l) => JSON.parse(l.slice(VM_LINE.length)) as Compiled);
}
