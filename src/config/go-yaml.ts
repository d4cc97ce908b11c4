/**
 * jobservice's config.yml read as jobservice reads it: Harbor up to v2.15.1 decodes it with gopkg.in/yaml.v2
 * (v2.4.0) into its Configuration struct (src/jobservice/config/config.go). The `yaml` library only parses; what
 * the nodes mean is decided here, as yaml.v2 decides it:
 * - Aliases are expanded where they are used, and the expansion is bounded as yaml.v2 bounds it (decode.go,
 *   allowedAliasRatio): once more than 100 decode steps come from aliases in a document of more than 1000 steps,
 *   the share of alias-driven steps may not pass 99 % (falling to 10 % between 400,000 and 4,000,000 steps),
 *   else "document contains excessive aliasing". So 200 references to one anchor are read, an alias bomb is
 *   refused, and the reading itself stays bounded. An alias inside the anchor it names, or naming no anchor
 *   before it, is refused as yaml.v2 refuses it.
 * - Merge keys (`<<`, plain or tagged !!merge) merge a mapping, an alias of one, or a list of those (the first
 *   winning), at the place of the key: a key before it is overridden, a key after it overrides.
 * - worker_pool and redis_pool are pointers to structs: a second mapping for one (by a merge) sets its fields
 *   into the same struct, a null resets it. redis_url is a string: any scalar's text, a !!binary one decoded.
 * The file's text is never quoted in an error: it may hold the Redis password.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Alias, type Node, type Scalar, type YAMLMap } from 'yaml';
import { ConfigError } from '../basics/errors.ts';
import { loaded } from '../basics/libraries.ts';

loaded('yaml');

/** A node or an empty one (`key:` with nothing after it). */
type Item = Node | null;

/** The struct fields jobservice decodes on the way to its Redis URL: a nested struct, or the string itself. */
type Field = 'string' | { readonly [key: string]: Field };

const YAML_TAG = 'tag:yaml.org,2002:';
const NULL_TEXTS = new Set(['', '~', 'null', 'Null', 'NULL']);

/** yaml.v2's decode.go: the share of decode steps that may come from alias expansion. */
export function allowedAliasRatio(decodeCount: number): number {
  if (decodeCount <= 400_000) return 0.99;
  if (decodeCount >= 4_000_000) return 0.1;
  return 0.99 - 0.89 * ((decodeCount - 400_000) / 3_600_000);
}

/** What a YAML node is, in the words of an error message. */
export function kindOfNode(node: Item): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const value = node.value;
    if (value === null) return 'null';
    if (value instanceof Uint8Array) return 'binary data';
    return `a ${typeof value === 'bigint' ? 'number' : typeof value}`;
  }
  return 'empty';
}

/** A plain, untagged null (`~`, `null`, nothing), or an empty node. */
function isNull(node: Item): boolean {
  if (node === null) return true;
  if (!isScalar(node)) return false;
  const tag = node.tag;
  return (tag === undefined || tag === `${YAML_TAG}null`) && (node.type === 'PLAIN' || tag !== undefined) && NULL_TEXTS.has(node.source ?? '');
}

function isMergeKey(key: unknown): boolean {
  if (!isScalar(key) || key.source !== '<<') return false;
  return (key.type === 'PLAIN' && key.tag === undefined) || key.tag === `${YAML_TAG}merge`;
}

/** The value of a short standard tag for an error (`!!binary`), or undefined for a local or custom one. */
function standardTag(tag: string | undefined): string | undefined {
  return tag?.startsWith(YAML_TAG) ? `!!${tag.slice(YAML_TAG.length)}` : undefined;
}

/** What a tagged scalar holds, in words, for the tags a Redis URL cannot carry. */
const TAG_MEANS: Record<string, string> = {
  '!!int': 'an integer',
  '!!float': 'a number',
  '!!bool': 'a boolean',
  '!!timestamp': 'a time',
  '!!null': 'null',
};

class Reader {
  /** Each alias, and the node of the anchor it names (the last one defined before it). */
  private readonly targets = new Map<Alias, Item>();
  private decodeCount = 0;
  private aliasCount = 0;
  private aliasDepth = 0;
  private readonly expanding = new Set<Alias>();

  private readonly root: Item;
  private readonly lines: LineCounter;
  private readonly what: string;

  constructor(root: Item, lines: LineCounter, what: string) {
    this.root = root;
    this.lines = lines;
    this.what = what;
  }

  fail(problem: string): never {
    throw new ConfigError(this.what, problem);
  }

  /** `line L, column C` of a node, for errors that must not quote the file. */
  at(node: Item | Alias): string {
    const offset = node?.range?.[0];
    if (offset === undefined) return 'an unknown position';
    const { line, col } = this.lines.linePos(offset);
    return `line ${line}, column ${col}`;
  }

  /**
   * Anchors and aliases in document order, as yaml.v2's parser sees them (an anchor is defined where its node
   * begins, so an alias inside that node names it); and keys given twice in one mapping. Iterative: any depth
   * the parser took is walked.
   */
  index(): void {
    const anchors = new Map<string, Item>();
    const stack: unknown[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop();
      if (isAlias(node)) {
        if (!anchors.has(node.source)) {
          this.fail(`an alias at ${this.at(node)} names no anchor defined before it, which jobservice's YAML reader refuses ("unknown anchor referenced")`);
        }
        this.targets.set(node, anchors.get(node.source) ?? null);
        continue;
      }
      if (!isMap(node) && !isSeq(node) && !isScalar(node)) continue;
      if (node.anchor) anchors.set(node.anchor, node);
      if (isMap(node)) {
        this.checkKeys(node);
        for (let i = node.items.length - 1; i >= 0; i--) {
          const pair = node.items[i];
          stack.push(pair?.value, pair?.key);
        }
      } else if (isSeq(node)) {
        for (let i = node.items.length - 1; i >= 0; i--) {
          const item = node.items[i];
          if (isPair(item)) stack.push(item.value, item.key);
          else stack.push(item);
        }
      }
    }
  }

  /** A scalar key given twice in one mapping (merge keys apart): refused, as jobservice's reader since Harbor v2.15.2 refuses it. */
  private checkKeys(map: YAMLMap): void {
    const seen = new Set<string>();
    for (const { key } of map.items) {
      if (!isScalar(key) || isMergeKey(key)) continue;
      const value = key.value;
      const id = `${typeof value}:${value instanceof Uint8Array ? key.source : String(value)}`;
      if (seen.has(id)) this.fail(`is not valid YAML (${this.at(key)}): DUPLICATE_KEY, a key given twice in one mapping`);
      seen.add(id);
    }
  }

  /** The node an alias names; any other node as it is. */
  deref(node: unknown): Item {
    if (isAlias(node)) return this.targets.get(node) ?? null;
    return (node ?? null) as Item;
  }

  /** yaml.v2's unmarshal, counting its steps, over the whole document (as into interface{}). */
  count(node: unknown): void {
    this.decodeCount++;
    if (this.aliasDepth > 0) this.aliasCount++;
    if (this.aliasCount > 100 && this.decodeCount > 1000 && this.aliasCount / this.decodeCount > allowedAliasRatio(this.decodeCount)) {
      this.fail(`expands its aliases far beyond what a config.yml needs (an alias bomb?): jobservice's YAML reader refuses it ("document contains excessive aliasing")`);
    }
    if (isAlias(node)) {
      if (this.expanding.has(node)) {
        this.fail(`the alias at ${this.at(node)} is inside the anchor it names, which jobservice's YAML reader refuses ("anchor value contains itself")`);
      }
      this.expanding.add(node);
      this.aliasDepth++;
      this.count(this.targets.get(node) ?? null);
      this.aliasDepth--;
      this.expanding.delete(node);
    } else if (isMap(node)) {
      for (const pair of node.items) {
        if (isMergeKey(pair.key)) {
          this.countMerge(pair.value, pair.key as Scalar);
        } else {
          this.count(pair.key);
          this.count(pair.value);
        }
      }
    } else if (isSeq(node)) {
      for (const item of node.items) {
        if (isPair(item)) {
          this.count(item.key);
          this.count(item.value);
        } else {
          this.count(item);
        }
      }
    }
  }

  private mergeError(key: Scalar): never {
    this.fail(`the merge key ("<<") at ${this.at(key)} merges something that is not a mapping, which jobservice's YAML reader refuses ("map merge requires map or sequence of maps as the value")`);
  }

  /** yaml.v2's merge: a mapping, an alias of one, or a list of those. */
  private countMerge(value: unknown, key: Scalar): void {
    if (isMap(value) || (isAlias(value) && isMap(this.deref(value)))) return this.count(value);
    if (!isSeq(value)) this.mergeError(key);
    for (let i = value.items.length - 1; i >= 0; i--) {
      const item = value.items[i];
      if (!isMap(item) && !(isAlias(item) && isMap(this.deref(item)))) this.mergeError(key);
      this.count(item);
    }
  }

  /** A mapping key as a struct field name: a scalar's text (null is ""). */
  private keyText(key: unknown): string {
    const node = this.deref(key);
    if (isNull(node)) return '';
    if (isScalar(node)) return node.source ?? String(node.value);
    this.fail(`a key at ${this.at(node)} is ${kindOfNode(node)}, which jobservice's YAML reader cannot take as a field name`);
  }

  /**
   * Decodes `node` into the struct `holder` of type `schema`, as yaml.v2's mappingStruct does: fields in order,
   * merges where they stand, fields that are not in the schema skipped. `path` names the struct in errors.
   */
  decodeStruct(schema: { readonly [key: string]: Field }, holder: Record<string, unknown>, node: unknown, path: readonly string[]): void {
    const map = this.deref(node);
    if (!isMap(map)) {
      const where = path.length === 0 ? 'the document' : path.join('.');
      this.fail(`${where} is ${kindOfNode(map)}, not a mapping: not jobservice's config.yml`);
    }
    for (const pair of map.items) {
      if (isMergeKey(pair.key)) {
        const value = pair.value;
        const maps = isSeq(value) ? [...value.items].reverse() : [value];
        for (const m of maps) this.decodeStruct(schema, holder, m, path);
        continue;
      }
      const name = this.keyText(pair.key);
      if (!Object.hasOwn(schema, name)) continue;
      const field = schema[name] as Field;
      const value = this.deref(pair.value);
      if (field === 'string') {
        if (isMap(value) || isSeq(value)) this.fail(`${[...path, name].join('.')} is ${kindOfNode(value)}, not a Redis URL`);
        holder[name] = value;
      } else if (isNull(value)) {
        holder[name] = null;
      } else {
        const existing = holder[name];
        const inner = existing !== null && typeof existing === 'object' ? (existing as Record<string, unknown>) : {};
        holder[name] = inner;
        this.decodeStruct(field, inner, value, [...path, name]);
      }
    }
  }
}

/** Go's base64.StdEncoding, which yaml.v2 decodes !!binary with: padded, line breaks ignored. */
function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/[\r\n]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:==|=)?$/.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

/** The Redis URL of jobservice's config.yml, and how it was written when that is worth saying. */
export interface YamlUrl {
  readonly text: string;
  /** `!!binary`, when the URL was written base64-encoded. */
  readonly tag?: string;
}

/**
 * Reads `text` (the file named by `what`) as jobservice does and returns the scalar at `path`: undefined when a
 * step is missing or null, or the value is empty. Every problem is a ConfigError naming `what`.
 */
export function readYamlString(text: string, path: readonly [string, ...string[]], what: string): YamlUrl | undefined {
  const lines = new LineCounter();
  // uniqueKeys is checked here instead: the library's check compares every pair of keys (minutes for a large file).
  // logLevel error: the library's warnings would quote the file (it may hold the Redis password).
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false, lineCounter: lines, logLevel: 'error' });
  const error = doc.errors[0];
  if (error) {
    // Only the position and code: the message quotes the file, which may hold the Redis password.
    const at = lines.linePos(error.pos[0]);
    if (error.code === 'RESOURCE_EXHAUSTION') {
      throw new ConfigError(what, `nests deeper than harbor-wait can read (line ${at.line}, column ${at.col}): not jobservice's config.yml`);
    }
    throw new ConfigError(what, `is not valid YAML (line ${at.line}, column ${at.col}): ${error.code}`);
  }
  const root = doc.contents as Item;
  const reader = new Reader(root, lines, what);
  try {
    reader.index();
    reader.count(root);
    if (isNull(reader.deref(root))) return undefined;
    // The schema: path[0] → path[1] → ... → a string.
    let schema: Field = 'string';
    for (const key of [...path].reverse()) schema = { [key]: schema };
    const holder: Record<string, unknown> = {};
    reader.decodeStruct(schema as { readonly [key: string]: Field }, holder, root, []);
    let value: unknown = holder;
    for (const key of path) {
      if (value === null || value === undefined) return undefined;
      value = (value as Record<string, unknown>)[key];
    }
    return value === undefined ? undefined : urlText(value as Item, path.join('.'), reader);
  } catch (err) {
    // A document nested too deep for the walk: refused as the parser refuses one too deep for it.
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      throw new ConfigError(what, 'nests deeper than harbor-wait can read: not jobservice\'s config.yml');
    }
    throw err;
  }
}

/** The string yaml.v2 makes of a scalar; undefined for null or empty. */
function urlText(node: Item, where: string, reader: Reader): YamlUrl | undefined {
  if (isNull(node) || !isScalar(node)) return undefined;
  const tag = standardTag(node.tag);
  const source = node.source ?? '';
  if (tag === '!!binary') {
    const bytes = decodeBase64(source);
    if (!bytes) reader.fail(`${where} is tagged !!binary but is not base64, which jobservice's YAML reader refuses ("!!binary value contains invalid base64 data")`);
    let decoded: string;
    try {
      decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      reader.fail(`${where} is tagged !!binary and decodes to bytes that are not text, not a Redis URL`);
    }
    return decoded === '' ? undefined : { text: decoded, tag };
  }
  if (tag !== undefined && tag !== '!!str') {
    const means = TAG_MEANS[tag];
    reader.fail(`${where} is tagged ${tag}${means ? `, ${means}` : ''}, not a Redis URL: write the URL as plain text`);
  }
  // An untagged plain number or boolean: jobservice would dial it as a host name; it is no URL.
  if (node.tag === undefined && node.type === 'PLAIN' && typeof node.value !== 'string') {
    reader.fail(`${where} is ${kindOfNode(node)}, not a Redis URL`);
  }
  return source === '' ? undefined : { text: source };
}
