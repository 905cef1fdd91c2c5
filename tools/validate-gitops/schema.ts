// Schema checks for rendered objects. Two layers, because neither catches everything:
// - kubernetes-models' validators (JSON Schema from the Kubernetes OpenAPI and the Argo CD
//   and prometheus-operator CRDs): types, enums, required fields, formats. Like the API
//   server's schemas they allow unknown fields.
// - the same models' TypeScript interfaces: every object is type-checked as a fresh object
//   literal, and TypeScript's excess-property check rejects any field the schema does not
//   declare (a misspelt `readinesProbe`, `resource` for `resources`), which the API server
//   would drop silently or reject only at apply time.
import * as path from 'node:path';
import * as ts from 'typescript';
import type { K8sObject } from './render';

const MODEL_PACKAGES = [
  'kubernetes-models',
  '@kubernetes-models/argo-cd',
  '@kubernetes-models/prometheus-operator',
];

export function modelModule(apiVersion: string, kind: string): string | undefined {
  // Strict shapes first: require.resolve would happily normalise "v1/" or "./v1".
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^[A-Za-z0-9]+$/.test(kind)) {
    return undefined;
  }
  if (!/^([a-z0-9]([a-z0-9.-]*[a-z0-9])?\/)?v\d+((alpha|beta)\d+)?$/.test(apiVersion)) {
    return undefined;
  }
  for (const pkg of MODEL_PACKAGES) {
    const spec = `${pkg}/${apiVersion}/${kind}`;
    try {
      require.resolve(spec);
      return spec;
    } catch {
      // not in this package
    }
  }
  return undefined;
}

export function describe(o: K8sObject): string {
  const ns = o?.metadata?.namespace ? `${o.metadata.namespace}/` : '';
  return `${o?.kind ?? '?'} ${ns}${o?.metadata?.name ?? '?'}`;
}

// The models still carry API versions that current clusters (GKE runs 1.30+) stopped serving;
// a manifest using one renders fine and fails only at apply time.
const REMOVED_APIS: Record<string, string> = {
  'extensions/v1beta1': '1.22',
  'networking.k8s.io/v1beta1': '1.22',
  'policy/v1beta1': '1.25',
  'batch/v1beta1': '1.25',
  'autoscaling/v2beta1': '1.25',
  'autoscaling/v2beta2': '1.26',
  'discovery.k8s.io/v1beta1': '1.25',
  'storage.k8s.io/v1beta1': '1.22',
  'rbac.authorization.k8s.io/v1beta1': '1.22',
  'apiextensions.k8s.io/v1beta1': '1.22',
  'admissionregistration.k8s.io/v1beta1': '1.22',
  'flowcontrol.apiserver.k8s.io/v1beta2': '1.29',
};

/** JSON-Schema validation with the models' own validators. */
export function validateWithModels(o: K8sObject): string[] {
  if (REMOVED_APIS[o.apiVersion]) {
    return [
      `${describe(o)}: apiVersion ${o.apiVersion} is no longer served since Kubernetes ${REMOVED_APIS[o.apiVersion]}`,
    ];
  }
  const spec = modelModule(o.apiVersion, o.kind);
  if (!spec) {
    return [
      `${describe(o)}: no schema for apiVersion "${o.apiVersion}" kind "${o.kind}" (misspelt, or an API version the cluster no longer serves)`,
    ];
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Model = require(spec)[o.kind];
  try {
    new Model(o).validate();
    return [];
  } catch (e) {
    const err = e as {
      errors?: Array<{ instancePath: string; message?: string; params?: unknown }>;
      message: string;
    };
    if (!err.errors) return [`${describe(o)}: ${err.message}`];
    return err.errors.map(
      (x) =>
        `${describe(o)}: ${x.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(root)'} ${x.message}${x.params && 'allowedValues' in (x.params as object) ? ` ${JSON.stringify((x.params as { allowedValues: unknown }).allowedValues)}` : ''}`,
    );
  }
}

// Declaration files are parsed once per process; each check builds a small program on top.
const sourceFileCache = new Map<string, ts.SourceFile | undefined>();
const compilerOptions: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
  lib: ['lib.es2022.d.ts'],
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
};

function fieldPath(node: ts.Node, stopAt: ts.Node): Array<string | number> {
  const parts: Array<string | number> = [];
  let cur: ts.Node | undefined = node;
  while (cur && cur !== stopAt) {
    const parent: ts.Node | undefined = cur.parent;
    if (ts.isPropertyAssignment(cur)) {
      const n = cur.name;
      parts.unshift(ts.isStringLiteral(n) || ts.isIdentifier(n) ? n.text : n.getText());
    } else if (parent && ts.isArrayLiteralExpression(parent)) {
      parts.unshift(parent.elements.indexOf(cur as ts.Expression));
    }
    cur = parent;
  }
  return parts;
}

function formatPath(parts: Array<string | number>): string {
  return parts.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('');
}

function deepestNodeAt(sf: ts.SourceFile, pos: number): ts.Node {
  let found: ts.Node = sf;
  const visit = (n: ts.Node) => {
    if (pos >= n.getStart(sf) && pos < n.getEnd()) {
      found = n;
      n.forEachChild(visit);
    }
  };
  sf.forEachChild(visit);
  return found;
}

/**
 * Unknown-field check: returns one message per object whose literal TypeScript rejects for
 * an excess property. Objects without a model are left to validateWithModels to report.
 */
const unknownFieldCache = new Map<string, string[]>();

export function findUnknownFields(objects: K8sObject[]): string[] {
  // Results are cached per object content: re-validating a tree with one planted change
  // type-checks only the objects that changed.
  const fresh = objects.filter((o) => !unknownFieldCache.has(JSON.stringify(o)));
  if (fresh.length) {
    const perObject = unknownFieldsOf(fresh);
    fresh.forEach((o, i) => unknownFieldCache.set(JSON.stringify(o), perObject[i]));
  }
  return objects.flatMap((o) => unknownFieldCache.get(JSON.stringify(o)) ?? []);
}

/**
 * TypeScript stops at the first excess property of each literal, so found fields are cut
 * from a copy and the copy checked again, until no more turn up (bounded).
 */
function unknownFieldsOf(objects: K8sObject[]): string[][] {
  const messages: string[][] = objects.map(() => []);
  let pending = objects.map((o, index) => ({ o: structuredClone(o), index }));
  for (let round = 0; round < 10 && pending.length; round++) {
    const found = typeCheck(pending.map((p) => p.o));
    const next: typeof pending = [];
    pending.forEach((p, i) => {
      if (!found[i].length) return;
      for (const { field, message } of found[i]) {
        messages[p.index].push(message.replace('{describe}', describe(objects[p.index])));
        let parent: Json = p.o;
        for (const k of field.slice(0, -1)) parent = parent?.[k];
        if (parent && typeof parent === 'object') delete parent[field[field.length - 1]];
      }
      next.push(p);
    });
    pending = next;
  }
  return messages.map((m) => [...new Set(m)]);
}

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function typeCheck(
  objects: K8sObject[],
): Array<Array<{ field: Array<string | number>; message: string }>> {
  const results: Array<Array<{ field: Array<string | number>; message: string }>> = objects.map(
    () => [],
  );
  const typed = objects
    .map((o, index) => ({ o, index, spec: modelModule(o.apiVersion, o.kind) }))
    .filter((x) => x.spec);
  if (!typed.length) return results;
  // A virtual file beside this module, so the model packages resolve from the validator's
  // own node_modules whichever tree is being validated.
  const fileName = path.join(__dirname, '__unknown_field_check__.ts');
  const lines: string[] = [];
  typed.forEach(({ o, spec }, i) => {
    lines.push(`import type { I${o.kind} as T${i} } from ${JSON.stringify(spec)};`);
  });
  typed.forEach(({ o }, i) => {
    lines.push(`export const o${i}: T${i} = ${JSON.stringify(o, null, 1)};`);
  });
  const text = lines.join('\n');
  const host = ts.createCompilerHost(compilerOptions, true);
  const baseGet = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, onError, shouldCreate) => {
    if (name === fileName) return ts.createSourceFile(name, text, languageVersion, true);
    if (!sourceFileCache.has(name)) {
      sourceFileCache.set(name, baseGet(name, languageVersion, onError, shouldCreate));
    }
    return sourceFileCache.get(name);
  };
  const baseExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || baseExists(name);
  const program = ts.createProgram({ rootNames: [fileName], options: compilerOptions, host });
  const sf = program.getSourceFile(fileName)!;
  const decls = sf.statements.filter(ts.isVariableStatement);
  for (const d of program.getSemanticDiagnostics(sf)) {
    // Unresolved model types would make every literal untyped and the check vacuous.
    if (d.code === 2307) {
      throw new Error(
        `unknown-field check cannot load the model types: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
      );
    }
    // 2353: "Object literal may only specify known properties"; 2561: the same, with a
    // "did you mean" suggestion. Type mismatches are the JSON-Schema layer's job.
    if (d.code !== 2353 && d.code !== 2561) continue;
    const stmtIndex = decls.findIndex((s) => d.start! >= s.getStart(sf) && d.start! < s.getEnd());
    if (stmtIndex < 0) continue;
    const node = deepestNodeAt(sf, d.start!);
    const field = fieldPath(node, decls[stmtIndex]);
    const hint =
      d.code === 2561
        ? ` (${ts.flattenDiagnosticMessageText(d.messageText, ' ').replace(/.*(Did you mean.*)$/, '$1')})`
        : '';
    results[typed[stmtIndex].index].push({
      field,
      message: `{describe}: unknown field "${formatPath(field)}"${hint}`,
    });
  }
  return results;
}
