/**
 * A stream of rendered Kubernetes manifests (`helm template`'s output, or the files of a directory), read as
 * kubectl reads them: YAML documents separated by `---`, empty ones skipped, `kind: List` flattened, aliases
 * expanded within the `yaml` library's bound (an alias bomb is refused, not expanded). Anything that is not
 * such a stream is a ConfigError naming the source and position, never quoting it: a manifest holds secrets.
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import { ConfigError } from '../basics/errors.ts';
import { loaded } from '../basics/libraries.ts';

loaded('yaml');

/** A rendered object, as far as lint reads it. */
export interface Manifest {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  /** The whole object, as the YAML says. */
  readonly body: Readonly<Record<string, unknown>>;
  /** Where it was read: `-`, a file's path, and the document's place. */
  readonly source: string;
}

export interface Source {
  /** `-` for standard input, or the file's path as given. */
  readonly name: string;
  readonly text: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Why the library could not make data of a parsed document, in words that quote nothing of it: the library
 * throws a ReferenceError for an alias it cannot resolve or an expansion past its bound, an Error for a merge
 * key on something that is not a mapping, a RangeError for a document nested past the stack.
 */
function unreadable(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  if (err instanceof ReferenceError && /excessive alias/i.test(message)) return 'expands its aliases far beyond what a manifest needs (an alias bomb?): refused';
  if (err instanceof ReferenceError) return 'has an alias that names no anchor defined before it';
  if (err instanceof RangeError) return 'nests deeper than harbor-wait can read';
  if (/merge/i.test(message)) return 'has a merge key ("<<") on something that is not a mapping';
  return 'cannot be read as data';
}

function manifest(value: unknown, where: string, source: Source): Manifest {
  if (!isObject(value)) throw new ConfigError(source.name, `${where} is ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}, not a Kubernetes object: not a stream of rendered manifests`);
  const { kind, metadata } = value;
  const name = isObject(metadata) ? metadata.name : undefined;
  if (typeof kind !== 'string' || kind === '' || typeof value.apiVersion !== 'string' || typeof name !== 'string' || name === '') {
    throw new ConfigError(source.name, `${where} has no apiVersion, kind and metadata.name: not a Kubernetes object`);
  }
  const namespace = isObject(metadata) && typeof metadata.namespace === 'string' ? metadata.namespace : undefined;
  return { kind, name, namespace, body: value, source: `${source.name} ${where}` };
}

/** Every object of the sources, in order. */
export function readManifests(sources: readonly Source[]): Manifest[] {
  const out: Manifest[] = [];
  for (const source of sources) {
    // uniqueKeys is not asked of the library: its check compares every pair of keys (minutes for a large file).
    const lines = new LineCounter();
    // logLevel error: the library's warnings would quote the stream (a key), and they go to the process, not to us.
    const docs = parseAllDocuments(source.text, { prettyErrors: false, uniqueKeys: false, lineCounter: lines, logLevel: 'error' });
    for (const doc of docs) {
      const where = `document at line ${lines.linePos(doc.range[0]).line}`;
      const error = doc.errors[0];
      if (error) {
        // Only the position and code: the message quotes the stream, which holds Secrets.
        const at = lines.linePos(error.pos[0]);
        throw new ConfigError(source.name, `is not valid YAML (line ${at.line}, column ${at.col}): ${error.code}`);
      }
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: 100 });
      } catch (err) {
        throw new ConfigError(source.name, `${where} ${unreadable(err)}`);
      }
      if (value === null || value === undefined) continue;
      // `kind: List` (kubectl get -o yaml) holds the objects in items, and needs no name of its own.
      if (isObject(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) {
        value.items.forEach((item, i) => out.push(manifest(item, `${where}, item ${i + 1}`, source)));
      } else out.push(manifest(value, where, source));
    }
  }
  return out;
}
