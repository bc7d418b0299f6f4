// --mesh-config FILE: the mesh config to judge with, for inputs that lack the `istio` ConfigMap
// (CI manifests never hold it) or to override the cluster's. Accepts what people have at hand: a
// MeshConfig YAML (istioctl's --meshConfigFile), the `istio` ConfigMap (key `mesh`), or an
// IstioOperator (spec.meshConfig).

import { readFile, stat } from 'node:fs/promises';
import jsyaml from 'js-yaml';
import { InputError } from '../errors.js';
import { loadYaml } from '../core/limits.js';
import { decode } from './files.js';
import { parseText } from './parse.js';

/** A mesh config is a few kilobytes; refuse anything that is clearly something else. */
const MAX_MESH_CONFIG_BYTES = 16 * 1024 * 1024;

export interface MeshConfigFile {
  mesh: Record<string, unknown>;
  /** `--mesh-config FILE (ConfigMap istio-system/istio)`, for evidence lines. */
  source: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The fields verdicts read, checked as Istio types them (a wrong type would not load in istiod either). */
function checkFields(mesh: Record<string, unknown>, file: string, line: number | undefined): void {
  const fail = (why: string): never => {
    throw new InputError(file, line, why);
  };
  if (mesh.rootNamespace !== undefined && typeof mesh.rootNamespace !== 'string') fail(`rootNamespace is ${JSON.stringify(mesh.rootNamespace)}, not a string`);
  if (mesh.enableAutoMtls !== undefined && typeof mesh.enableAutoMtls !== 'boolean') fail(`enableAutoMtls is ${JSON.stringify(mesh.enableAutoMtls)}, not true or false`);
  const exportTo = mesh.defaultDestinationRuleExportTo;
  if (exportTo !== undefined && (!Array.isArray(exportTo) || exportTo.some((e) => typeof e !== 'string'))) {
    fail(`defaultDestinationRuleExportTo is ${JSON.stringify(exportTo)}, not a list of namespaces`);
  }
}

export async function readMeshConfigFile(file: string): Promise<MeshConfigFile> {
  let bytes: Buffer;
  try {
    const info = await stat(file);
    if (info.isFile() && info.size > MAX_MESH_CONFIG_BYTES) throw new InputError(file, undefined, 'larger than 16Mi: not a mesh config');
    bytes = await readFile(file);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(file, undefined, `--mesh-config: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot read (${code ?? 'error'})`}`);
  }
  const docs = parseText(decode(bytes, file), file, bytes).filter((d) => d.value !== null && d.value !== undefined);
  const doc = docs[0];
  if (!doc || !isObject(doc.value)) throw new InputError(file, doc?.line, '--mesh-config: expected a MeshConfig mapping, an istio ConfigMap or an IstioOperator');
  const value = doc.value;
  let mesh: Record<string, unknown>;
  let what: string;
  if (value.kind === 'ConfigMap') {
    const text = isObject(value.data) ? value.data.mesh : undefined;
    if (typeof text !== 'string') throw new InputError(file, doc.line, '--mesh-config: this ConfigMap has no data.mesh (the istio ConfigMap keeps the MeshConfig there)');
    let parsed: unknown;
    try {
      parsed = text.trim() === '' ? {} : loadYaml(text);
    } catch (err) {
      throw new InputError(file, doc.line, `--mesh-config: data.mesh is not valid YAML: ${err instanceof jsyaml.YAMLException ? err.reason : (err as Error).message}`);
    }
    if (!isObject(parsed)) throw new InputError(file, doc.line, '--mesh-config: data.mesh is not a mapping');
    mesh = parsed;
    const meta = isObject(value.metadata) ? value.metadata : {};
    what = `ConfigMap ${typeof meta.namespace === 'string' ? meta.namespace : 'istio-system'}/${typeof meta.name === 'string' ? meta.name : 'istio'}`;
  } else if (value.kind === 'IstioOperator') {
    const spec = isObject(value.spec) ? value.spec : {};
    mesh = isObject(spec.meshConfig) ? spec.meshConfig : {};
    what = 'IstioOperator spec.meshConfig';
  } else if (typeof value.kind === 'string') {
    throw new InputError(file, doc.line, `--mesh-config: a ${value.kind} is not a mesh config (expected a MeshConfig mapping, an istio ConfigMap or an IstioOperator)`);
  } else {
    mesh = value;
    what = 'MeshConfig';
  }
  checkFields(mesh, file, doc.line);
  return { mesh, source: `--mesh-config ${file} (${what})` };
}
