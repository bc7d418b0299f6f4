// fast-check arbitraries for broken manifests: the seed manifests (fixtures/demo and builder
// scenarios) mutated at the object level (a field deleted, retyped, renamed to an Istio key,
// replaced by something odd; kinds swapped; objects dropped, duplicated, reordered; the
// tunnel and mesh configs inside ConfigMaps mutated the same way), serialized as YAML or JSON,
// then sometimes damaged at the text level (characters, YAML syntax, truncation). Plus
// documents that are random values altogether. Every choice is an integer fast-check can shrink.

import fc from 'fast-check';
import jsyaml from 'js-yaml';
import { KINDS } from '../../src/core/kinds.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = Array<string | number>;

/** Keys the model reads, and keys that are hostile to naive JavaScript. */
const KEYS = [
  'traffic.sidecar.istio.io/excludeInboundPorts',
  'traffic.sidecar.istio.io/includeInboundPorts',
  'traffic.sidecar.istio.io/excludeOutboundPorts',
  'traffic.sidecar.istio.io/excludeOutboundIPRanges',
  'traffic.istio.io/excludeInboundPorts',
  'sidecar.istio.io/inject',
  'istio-injection',
  'istio.io/rev',
  'istio.io/dataplane-mode',
  'security.istio.io/tlsMode',
  'cloudflare-operator.io/id',
  'cloudflare-operator.io/type',
  'cloudflare.com/protocol',
  'portLevelMtls',
  'portLevelSettings',
  'selector',
  'matchLabels',
  'exportTo',
  'subsets',
  'targetPort',
  'hostNetwork',
  'restartPolicy',
  'ownerReferences',
  'initContainers',
  'containers',
  'ports',
  'ingress',
  'sources',
  'rules',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '',
];

/** Values that sit on the edges of what the model parses. */
const ODD_VALUES: Json[] = [
  '*',
  '',
  ' ',
  '9091',
  ' 9091 , 8080 ',
  '9091-9095',
  '-1',
  '65536',
  9091,
  0,
  -1,
  65536,
  1.5,
  1e300,
  true,
  false,
  null,
  'ISTIO_MUTUAL',
  'STRICT',
  'PERMISSIVE',
  'DISABLE',
  'UNSET',
  'enabled',
  'disabled',
  'ambient',
  'istio',
  'true',
  'false',
  'None',
  'http://web.app.svc:99999',
  'https://sg-cloud-gateway.app.svc:9091',
  'tcp://[::1]:80',
  'http_status:404',
  'http://10.96.0.1:80',
  '*.example.com',
  '^/api(',
  'default',
  'istio-system',
  'kube-system',
  '{"holdApplicationUntilProxyStarts": true}',
  [],
  {},
  ['*'],
  [9091],
  [{}],
  { '9091': { mode: 'DISABLE' } },
  { number: 9091 },
  { matchLabels: { app: 'sg-cloud-gateway' } },
  'x'.repeat(300),
];

const value: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ODD_VALUES) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);

type Mutation =
  | { op: 'delete'; at: number }
  | { op: 'replace'; at: number; value: Json }
  | { op: 'rekey'; at: number; key: string }
  | { op: 'wrap'; at: number }
  | { op: 'stringify'; at: number }
  | { op: 'kind'; object: number; kind: string }
  | { op: 'drop'; object: number }
  | { op: 'duplicate'; object: number }
  | { op: 'swap'; object: number; other: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value }),
  fc.record({ op: fc.constant('rekey' as const), at: fc.nat(), key: fc.constantFrom(...KEYS) }),
  fc.record({ op: fc.constant('wrap' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('stringify' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('kind' as const), object: fc.nat(), kind: fc.constantFrom(...KINDS.map((k) => k.kind), 'List', 'PodList', 'Widget', '') }),
  fc.record({ op: fc.constant('drop' as const), object: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), object: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), object: fc.nat(), other: fc.nat() }),
);

/** Every path to a node under `root` (the root itself excluded), in a stable order. */
function paths(root: Json): Path[] {
  const out: Path[] = [];
  const walk = (node: Json, path: Path): void => {
    if (Array.isArray(node)) node.forEach((child, i) => walkChild(child, [...path, i]));
    else if (node !== null && typeof node === 'object') for (const [k, child] of Object.entries(node)) walkChild(child, [...path, k]);
  };
  const walkChild = (child: Json, path: Path): void => {
    out.push(path);
    walk(child, path);
  };
  walk(root, []);
  return out;
}

function parentOf(root: Json, path: Path): { parent: Json[] | Record<string, Json>; key: string | number } | undefined {
  let node: Json = root;
  for (const step of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, Json>)[step as string] as Json;
  }
  if (node === null || typeof node !== 'object') return undefined;
  return { parent: node as Json[] | Record<string, Json>, key: path[path.length - 1] as string | number };
}

function setAt(root: Json, path: Path, next: (old: Json) => Json | undefined): void {
  const hit = parentOf(root, path);
  if (!hit) return;
  const { parent, key } = hit;
  if (Array.isArray(parent)) {
    const old = parent[key as number] as Json;
    const v = next(old);
    if (v === undefined) parent.splice(key as number, 1);
    else parent[key as number] = v;
  } else {
    const old = parent[key as string] as Json;
    const v = next(old);
    if (v === undefined) delete parent[key as string];
    else Object.defineProperty(parent, key as string, { value: v, enumerable: true, writable: true, configurable: true });
  }
}

/** Strings inside ConfigMap data that hold structured text (tunnel configs, the mesh config). */
function embedded(o: Json): Array<{ holder: Record<string, Json>; key: string; format: 'json' | 'yaml' }> {
  if (o === null || typeof o !== 'object' || Array.isArray(o) || o.kind !== 'ConfigMap') return [];
  const data = o.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return [];
  return Object.entries(data)
    .filter(([, v]) => typeof v === 'string')
    .map(([key]) => ({ holder: data as Record<string, Json>, key, format: key.endsWith('.json') ? ('json' as const) : ('yaml' as const) }));
}

function applyTo(root: Json, m: Mutation): void {
  const all = paths(root);
  if (all.length === 0) return;
  const at = 'at' in m ? (all[m.at % all.length] as Path) : [];
  switch (m.op) {
    case 'delete':
      return setAt(root, at, () => undefined);
    case 'replace':
      return setAt(root, at, () => structuredClone(m.value));
    case 'wrap':
      return setAt(root, at, (old) => [old]);
    case 'stringify':
      return setAt(root, at, (old) => (typeof old === 'string' ? Number(old) : JSON.stringify(old)));
    case 'rekey': {
      const hit = parentOf(root, at);
      if (!hit || Array.isArray(hit.parent)) return;
      const old = hit.parent[hit.key as string] as Json;
      delete hit.parent[hit.key as string];
      Object.defineProperty(hit.parent, m.key, { value: old, enumerable: true, writable: true, configurable: true });
      return;
    }
    default:
      return;
  }
}

function mutateObjects(objects: Json[], mutations: Mutation[]): Json[] {
  const out = structuredClone(objects);
  for (const m of mutations) {
    if (out.length === 0) break;
    const i = 'object' in m ? m.object % out.length : 0;
    switch (m.op) {
      case 'kind': {
        const o = out[i];
        if (o && typeof o === 'object' && !Array.isArray(o)) o.kind = m.kind;
        break;
      }
      case 'drop':
        out.splice(i, 1);
        break;
      case 'duplicate':
        out.push(structuredClone(out[i] as Json));
        break;
      case 'swap': {
        const j = m.other % out.length;
        [out[i], out[j]] = [out[j] as Json, out[i] as Json];
        break;
      }
      default: {
        // Field mutations land anywhere in the whole set, embedded configs included.
        const targets = out.flatMap((o) => embedded(o));
        const pick = m.at % (targets.length * 4 + 1);
        if (pick < targets.length) mutateEmbedded(targets[pick] as (typeof targets)[number], m);
        else applyTo(out, m);
      }
    }
  }
  return out;
}

function mutateEmbedded(t: { holder: Record<string, Json>; key: string; format: 'json' | 'yaml' }, m: Mutation): void {
  const text = t.holder[t.key] as string;
  let parsed: Json;
  try {
    parsed = (t.format === 'json' ? JSON.parse(text) : jsyaml.load(text)) as Json;
  } catch {
    return;
  }
  const box: Json = [parsed];
  applyTo(box, m);
  t.holder[t.key] = t.format === 'json' ? JSON.stringify((box as Json[])[0] ?? null) : jsyaml.dump((box as Json[])[0] ?? null);
}

/** Text-level damage: the YAML syntax a hurried edit or a half-rendered template leaves behind. */
const SNIPPETS = ['&a ', '*a', '*b ', ': ', '- ', '\t', '{', '}', '[', ']', '"', "'", '\n---\n', '\n', '#', '|', '>', '!!binary ', '!!js/function ', '<<: ', '? ', '%YAML 1.2\n', '{{ .Values.x }}', '\u00e9', '\uFEFF', '\u2028', '\\'];

type TextEdit = { at: number; kind: 'insert'; text: string } | { at: number; kind: 'delete'; length: number } | { at: number; kind: 'truncate' };

const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ at: fc.nat(), kind: fc.constant('insert' as const), text: fc.oneof(fc.constantFrom(...SNIPPETS), fc.string({ maxLength: 4 })) }),
  fc.record({ at: fc.nat(), kind: fc.constant('delete' as const), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ at: fc.nat(), kind: fc.constant('truncate' as const) }),
);

function applyText(text: string, edits: TextEdit[]): string {
  let out = text;
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.at % out.length;
    if (e.kind === 'insert') out = out.slice(0, at) + e.text + out.slice(at);
    else if (e.kind === 'delete') out = out.slice(0, at) + out.slice(at + e.length);
    else out = out.slice(0, at);
  }
  return out;
}

export type Format = 'yaml-stream' | 'yaml-list' | 'json-list';

export function serialize(objects: Json[], format: Format): string {
  switch (format) {
    case 'yaml-stream':
      return objects.map((o) => jsyaml.dump(o, { lineWidth: -1 })).join('---\n');
    case 'yaml-list':
      return jsyaml.dump({ apiVersion: 'v1', kind: 'List', items: objects }, { lineWidth: -1 });
    case 'json-list':
      return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2);
  }
}

export interface Sample {
  text: string;
  /** File extension: .yaml or .json. */
  ext: 'yaml' | 'json';
  /** Extra flags (-n). */
  args: string[];
}

/** fast-check prints counterexamples with this: the input itself is in the saved file the failure names. */
function sample(text: string, ext: Sample['ext'], args: string[]): Sample {
  return Object.assign({ text, ext, args }, { [fc.toStringMethod]: () => `${ext} input, ${text.length} chars, args [${args.join(' ')}]` });
}

/** Manifests derived from `seeds` (each a list of objects), mutated, serialized, maybe damaged. */
export function mutatedManifests(seeds: readonly Json[][]): fc.Arbitrary<Sample> {
  return fc
    .record({
      seed: fc.nat(),
      mutations: fc.array(mutation, { minLength: 1, maxLength: 6 }),
      format: fc.constantFrom<Format>('yaml-stream', 'yaml-list', 'json-list'),
      edits: fc.oneof({ weight: 3, arbitrary: fc.constant([] as TextEdit[]) }, { weight: 1, arbitrary: fc.array(textEdit, { minLength: 1, maxLength: 3 }) }),
      scope: fc.constantFrom<string[]>([], ['-n', 'app'], ['-n', 'cloudflare-operator-system'], ['-n', 'nowhere']),
    })
    .map(({ seed, mutations, format, edits, scope }) => {
      const objects = mutateObjects(seeds[seed % seeds.length] as Json[], mutations);
      return sample(applyText(serialize(objects, format), edits), format === 'json-list' ? 'json' : 'yaml', scope);
    });
}

/** Documents that are random values: what a wrong file or a broken generator produces. */
export function randomDocuments(): fc.Arbitrary<Sample> {
  const doc = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.record({ apiVersion: fc.constantFrom('v1', 'apps/v1', 'networking.istio.io/v1', 'security.istio.io/v1'), kind: fc.constantFrom(...KINDS.map((k) => k.kind)), metadata: fc.jsonValue({ maxDepth: 2 }), spec: fc.jsonValue({ maxDepth: 4 }), data: fc.jsonValue({ maxDepth: 2 }) }),
  );
  return fc
    .record({ docs: fc.array(doc, { minLength: 1, maxLength: 5 }), json: fc.boolean() })
    .map(({ docs, json }) => sample(json ? JSON.stringify({ kind: 'List', apiVersion: 'v1', items: docs }) : docs.map((d) => jsyaml.dump(d)).join('---\n'), json ? 'json' : 'yaml', []));
}
