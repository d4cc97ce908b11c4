/**
 * The Kubernetes API: the schema of kubernetes-models, plus unknown fields (its validator lets them through, the
 * API server and Helm's validation do not). Shared by the snippet tests (helm.test.ts) and the rendered-chart tests
 * (chart.test.ts).
 */
import { readFileSync } from 'node:fs';

/**
 * The .d.ts files of kubernetes-models name every field of every type: the strict-field check reads them. A type is
 * named by its file: a bare name is core/v1 ('Container', 'PodTemplateSpec'), a path is under kubernetes-models
 * ('apps/v1/Deployment') or, from '@kubernetes-models/', under node_modules (ObjectMeta is apimachinery's).
 */
const NODE_MODULES = new URL('../../node_modules/', import.meta.url);
const MODELS_DIR = new URL('kubernetes-models/', NODE_MODULES);

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

export interface Model {
  readonly fields: Map<string, string>;
  /** A field's type name → the type (as named above) it is imported from. */
  readonly imports: Map<string, string>;
  /**
   * A type alias (Quantity, IntOrString, Time: a string or a number) or a class with no fields (FieldsV1,
   * RawExtension: free-form in the API's schema too): no field of it is unknown.
   */
  readonly open: boolean;
}
const models = new Map<string, Model>();

function fileOf(type: string): URL {
  if (type.startsWith('@kubernetes-models/')) return new URL(`${type}.d.ts`, NODE_MODULES);
  return new URL(`${type.includes('/') ? type : `v1/${type}`}.d.ts`, MODELS_DIR);
}

/** The type an import of `file` names: './X.js' and '../../v1/X.js' relative to it, '@kubernetes-models/...' as is. */
function importedType(specifier: string, file: URL): string | undefined {
  if (specifier === '@kubernetes-models/base') return undefined; // Model, TypeMeta: no fields of an object
  if (specifier.startsWith('@kubernetes-models/')) return specifier;
  const path = new URL(specifier.replace(/\.js$/, ''), file).href;
  if (path.startsWith(MODELS_DIR.href)) {
    const type = path.slice(MODELS_DIR.href.length);
    return /^v1\/\w+$/.test(type) ? type.slice('v1/'.length) : type;
  }
  return path.startsWith(`${NODE_MODULES.href}@kubernetes-models/`) ? path.slice(NODE_MODULES.href.length) : undefined;
}

export function modelOf(type: string): Model {
  let model = models.get(type);
  if (model === undefined) {
    const file = fileOf(type);
    const text = readFileSync(file, 'utf8');
    const body = /export declare class \w+[^{]*\{([\s\S]*?)\n {4}constructor\(/.exec(text)?.[1];
    if (body === undefined && !/^export type I\w+ = [^{]+;$/m.test(text)) throw new Error(`kubernetes-models: cannot read the fields of ${type}`);
    const fields = new Map([...(body ?? '').matchAll(/^ {4}"([^"]+)"\??: (.+?);?$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
    const imports = new Map<string, string>();
    for (const m of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) {
      const imported = importedType(m[2] ?? '', file);
      if (imported !== undefined) imports.set(m[1] ?? '', imported);
    }
    model = { fields, imports, open: fields.size === 0 };
    models.set(type, model);
  }
  return model;
}

/**
 * The fields of `value` that its Kubernetes type (named as above) and the types under it do not have, as problems
 * at `path`. Starts from any type: a Container, a PodSpec, a PodTemplateSpec (its metadata included), a workload.
 */
export function unknownFields(value: unknown, type: string, path: string, out: string[] = []): string[] {
  if (!isObj(value)) return out;
  const { fields, imports, open } = modelOf(type);
  if (open) return out;
  for (const [key, child] of Object.entries(value)) {
    const fieldType = fields.get(key);
    if (fieldType === undefined) {
      out.push(`${path}.${key}: unknown field (Kubernetes ${type.slice(type.lastIndexOf('/') + 1)} has no such field)`);
      continue;
    }
    const ref = /^(Array<)?(\w+)>?$/.exec(fieldType);
    const childType = ref ? imports.get(ref[2] ?? '') : undefined;
    if (childType === undefined) continue; // a scalar or a map
    if (ref?.[1] === undefined) unknownFields(child, childType, `${path}.${key}`, out);
    else if (Array.isArray(child)) child.forEach((item, i) => unknownFields(item, childType, `${path}.${key}[${i}]`, out));
  }
  return out;
}
