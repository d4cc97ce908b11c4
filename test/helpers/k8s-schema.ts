/**
 * The Kubernetes API: the schema of kubernetes-models, plus unknown fields (its validator lets them through, the
 * API server and Helm's validation do not). Shared by the snippet tests (helm.test.ts) and the rendered-chart tests
 * (chart.test.ts).
 */
import { readFileSync } from 'node:fs';

/** The .d.ts files of kubernetes-models name every field of every core/v1 type: the strict-field check reads them. */
const MODELS_V1_DIR = new URL('../../node_modules/kubernetes-models/v1/', import.meta.url);

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

export interface Model {
  readonly fields: Map<string, string>;
  readonly imports: Map<string, string>;
}
const models = new Map<string, Model>();

export function modelOf(type: string): Model {
  let model = models.get(type);
  if (model === undefined) {
    const text = readFileSync(new URL(`${type}.d.ts`, MODELS_V1_DIR), 'utf8');
    const body = /export declare class \w+[^{]*\{([\s\S]*?)\n {4}constructor\(/.exec(text)?.[1];
    if (body === undefined) throw new Error(`kubernetes-models: cannot read the fields of ${type}`);
    model = {
      fields: new Map([...body.matchAll(/^ {4}"([^"]+)"\??: (.+?);?$/gm)].map((m) => [m[1] ?? '', m[2] ?? ''])),
      imports: new Map([...text.matchAll(/^import \{ (\w+) \} from "\.\/(\w+)\.js";$/gm)].map((m) => [m[1] ?? '', m[2] ?? ''])),
    };
    models.set(type, model);
  }
  return model;
}

export function unknownFields(value: unknown, type: string, path: string, out: string[] = []): string[] {
  if (!isObj(value)) return out;
  const { fields, imports } = modelOf(type);
  for (const [key, child] of Object.entries(value)) {
    const fieldType = fields.get(key);
    if (fieldType === undefined) {
      out.push(`${path}.${key}: unknown field (Kubernetes ${type} has no such field)`);
      continue;
    }
    const ref = /^(Array<)?(\w+)>?$/.exec(fieldType);
    const childType = ref ? imports.get(ref[2] ?? '') : undefined;
    if (childType === undefined) continue; // a scalar, a map, or an apimachinery type (IntOrString, Quantity)
    if (ref?.[1] === undefined) unknownFields(child, childType, `${path}.${key}`, out);
    else if (Array.isArray(child)) child.forEach((item, i) => unknownFields(item, childType, `${path}.${key}[${i}]`, out));
  }
  return out;
}
