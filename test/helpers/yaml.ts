/** YAML as Helm reads it, for the tests of the overlays and the chart. */
import { isDeepStrictEqual } from 'node:util';
import { parseDocument } from 'yaml';

/**
 * Parses one YAML document; throws on any error or warning (a duplicate key included). Helm reads values with a
 * YAML 1.1 parser (yes/no/on/off are booleans there), so the text must mean the same as YAML 1.1 and 1.2.
 */
export function loadYaml(text: string, name: string): unknown {
  const problems: string[] = [];
  const [v12, v11] = (['1.2', '1.1'] as const).map((version) => {
    const doc = parseDocument(text, { version, uniqueKeys: true, prettyErrors: true });
    for (const e of [...doc.errors, ...doc.warnings]) problems.push(`${name} (YAML ${version}): ${e.message}`);
    return problems.length === 0 ? (doc.toJS() as unknown) : undefined;
  });
  if (problems.length > 0) throw new Error(problems.join('\n'));
  if (!isDeepStrictEqual(v12, v11)) throw new Error(`${name} reads differently as YAML 1.1 (as Helm reads it) and 1.2`);
  return v12;
}
