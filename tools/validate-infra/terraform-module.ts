// A Terraform folder parsed into JSON (HCL -> JSON by @cdktf/hcl2json, the parser CDKTF uses)
// and indexed by block: what the terraform-policy, terraform-upstream and capacity checks read.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';

// Loaded untyped on purpose: @cdktf/hcl2json's typings carry `/// <reference lib="dom" />`,
// which would swap Node's fetch types for the DOM's in every file of the project.
const { parse } = createRequire(__filename)('@cdktf/hcl2json') as {
  parse(fileName: string, content: string): Promise<unknown>;
};

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface TfModule {
  dir: string;
  files: Record<string, Json>;
  variables: Record<string, { file: string; body: Json }>;
  outputs: Record<string, { file: string; body: Json }>;
  resources: { type: string; name: string; file: string; body: Json }[];
  terraform: { file: string; body: Json }[];
}

/** Parses every .tf of a folder; throws with the file name on a syntax error. */
export async function loadModule(root: string, dir: string): Promise<TfModule> {
  const mod: TfModule = {
    dir,
    files: {},
    variables: {},
    outputs: {},
    resources: [],
    terraform: [],
  };
  const abs = join(root, dir);
  for (const f of readdirSync(abs)
    .filter((n) => n.endsWith('.tf'))
    .sort()) {
    const rel = relative(root, join(abs, f));
    let json: Json;
    try {
      json = (await parse(f, readFileSync(join(abs, f), 'utf8'))) as Json;
    } catch (err) {
      throw new Error(
        `${rel}: HCL parse error: ${String((err as Error).message ?? err).split('\n')[0]}`,
      );
    }
    mod.files[rel] = json;
    for (const [name, [body]] of Object.entries<Json[]>(json.variable ?? {})) {
      mod.variables[name] = { file: rel, body };
    }
    for (const [name, [body]] of Object.entries<Json[]>(json.output ?? {})) {
      mod.outputs[name] = { file: rel, body };
    }
    for (const [type, byName] of Object.entries<Json>(json.resource ?? {})) {
      for (const [name, [body]] of Object.entries<Json[]>(byName)) {
        mod.resources.push({ type, name, file: rel, body });
      }
    }
    for (const body of json.terraform ?? []) mod.terraform.push({ file: rel, body });
  }
  if (!Object.keys(mod.files).length) throw new Error(`${dir}: no .tf files`);
  return mod;
}
