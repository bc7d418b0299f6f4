// Bounds on hostile input, enforced where text becomes values so that nothing downstream
// (shape checks, the model, fixes that clone and dump whole objects, reports) ever meets a
// structure it cannot walk:
//
// - size: each input is refused above a limit (--max-input-size) before it is read;
// - nesting: js-yaml refuses documents deeper than MAX_NESTING_DEPTH while parsing (its own
//   maxDepth, free); JSON.parse has no such option and does not need one (V8 parses a million
//   levels iteratively), but the consumers recurse (structuredClone, js-yaml's dumper and
//   JSON.stringify overflow the stack at a few thousand levels), so JSON text is scanned for
//   its depth, which costs about half of JSON.parse's time;
// - aliases: js-yaml keeps `*alias` as a reference to the anchored node, so a billion-laughs
//   document parses in a millisecond and explodes when something walks it (a fix dumping the
//   DestinationRule it edits). Documents that contain an alias get one memoized walk that
//   counts how many nodes aliases add and refuses cycles; documents without one are trees
//   whose size is bounded by their text and are not walked.

import jsyaml from 'js-yaml';

/** Deeper than any Kubernetes object or CRD schema; far shallower than where recursion breaks (~2,500). */
export const MAX_NESTING_DEPTH = 256;

/** Nodes that aliases may add to one YAML document (expanded size minus distinct nodes). */
export const MAX_ALIAS_EXPANSION = 1_000_000;

/** Default for --max-input-size: a 10k-pod `kubectl get -o yaml` dump is well under it. */
export const DEFAULT_MAX_INPUT_BYTES = 256 * 1024 * 1024;

/** Why a value cannot be accepted; the caller names the file and line. */
export class LimitError extends Error {}

const SIZE = /^(\d+(?:\.\d+)?)\s*(k|ki|m|mi|g|gi)?b?$/i;
const UNIT: Record<string, number> = { '': 1, k: 1e3, ki: 1024, m: 1e6, mi: 1024 ** 2, g: 1e9, gi: 1024 ** 3 };

/** `64Mi`, `500M`, `1Gi`, `1048576` → bytes; undefined when not a size. */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const bytes = Math.round(Number(m[1]) * (UNIT[(m[2] ?? '').toLowerCase()] as number));
  return bytes > 0 ? bytes : undefined;
}

/** 268435456 → "256 MiB". */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} bytes`;
}

// ---- YAML ----------------------------------------------------------------------------

/** Kubernetes YAML is YAML 1.1-ish via go-yaml: keep timestamps as strings, allow `<<` merges. */
const { types } = jsyaml as unknown as { types: { merge: jsyaml.Type } }; // present at run time, missing from @types
// `<<` is an implicit type: extend([merge]) would register it as explicit (`!!merge` only) and
// leave `<<: *defaults` a plain key, as it was here before.
export const YAML_SCHEMA = jsyaml.CORE_SCHEMA.extend({ implicit: [types.merge] });

/**
 * An alias (`*name`) where a node may start: the only way js-yaml shares a node. Text that
 * merely looks like one (`matches *.local`) costs a walk; `&&` in shell commands, common in
 * dumps, does not (matching anchors instead cost a fifth of the parse on a 20k-object List).
 */
const ALIAS = /(?:^|[\s[{,:?-])\*[^\s[\]{},]/m;

/** May js-yaml have shared a node in this text (so the parsed value needs checkAliases)? */
export function mayHaveAliases(text: string): boolean {
  // Most documents hold no `*` at all: a memchr-fast look first (the pattern cannot skip ahead).
  return text.includes('*') && ALIAS.test(text);
}

/**
 * js-yaml's load with the nesting and alias bounds. Throws jsyaml.YAMLException (with a mark)
 * for syntax and nesting, LimitError for aliases.
 */
export function loadYaml(text: string, filename?: string): unknown {
  // maxDepth arrived in js-yaml 4.3 (missing from @types): package.json asks for that version or later.
  const options = { schema: YAML_SCHEMA, maxDepth: MAX_NESTING_DEPTH, ...(filename ? { filename } : {}) } as jsyaml.LoadOptions;
  const value = jsyaml.load(text, options);
  if (typeof value === 'object' && value !== null && mayHaveAliases(text)) checkAliases(value);
  return value;
}

interface Measure {
  /** Nodes when every alias is expanded (capped). */
  size: number;
  /** Levels below and including this node, aliases expanded. */
  height: number;
}

/**
 * One walk over the distinct nodes of a parsed document (a DAG when aliases share nodes):
 * refuses cycles, expanded nesting beyond MAX_NESTING_DEPTH, and more than
 * MAX_ALIAS_EXPANSION nodes added by aliases. Recursion never goes deeper than the limit.
 */
export function checkAliases(root: object): void {
  const cap = Number.MAX_SAFE_INTEGER;
  const done = new Map<object, Measure>();
  const onPath = new Set<object>();
  let distinct = 0;
  const visit = (node: object, depth: number): Measure => {
    const known = done.get(node);
    if (known) {
      if (depth + known.height > MAX_NESTING_DEPTH) throw new LimitError(`YAML aliases nest it deeper than ${MAX_NESTING_DEPTH} levels`);
      return known;
    }
    if (onPath.has(node)) throw new LimitError('a YAML alias refers to a node that contains it (a cycle)');
    if (depth >= MAX_NESTING_DEPTH) throw new LimitError(`YAML aliases nest it deeper than ${MAX_NESTING_DEPTH} levels`);
    onPath.add(node);
    let size = 1;
    let height = 1;
    distinct++;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) {
        const m = visit(child, depth + 1);
        size = Math.min(cap, size + m.size);
        height = Math.max(height, m.height + 1);
      } else {
        size++;
        distinct++;
      }
    }
    onPath.delete(node);
    const measure = { size, height };
    done.set(node, measure);
    if (size - distinct > MAX_ALIAS_EXPANSION) {
      throw new LimitError(`YAML aliases expand it by more than ${MAX_ALIAS_EXPANSION.toLocaleString('en-US')} nodes (an alias bomb?)`);
    }
    return measure;
  };
  visit(root, 0);
}

// ---- JSON ----------------------------------------------------------------------------

/**
 * Where JSON first nests deeper than MAX_NESTING_DEPTH, as a byte offset into its UTF-8; -1
 * when it never does. Brackets inside strings do not count (multi-byte UTF-8 sequences never
 * contain the ASCII quote, backslash or brackets). Run it BEFORE JSON.parse: V8 parses nesting
 * iteratively but keeps ~50 bytes a level, so a few MB of `[` cost gigabytes before failing.
 * Text that is not JSON may be misjudged either way; callers then let a bounded parser decide.
 */
export function jsonTooDeepAt(json: string | Uint8Array): number {
  // One loop over bytes, about twice as fast as over a string; encoding a string first is cheap next to it.
  const b = typeof json === 'string' ? Buffer.from(json, 'utf8') : json;
  let depth = 0;
  const n = b.length;
  for (let i = 0; i < n; i++) {
    const c = b[i] as number;
    if (c === 34 /* " */) {
      for (i++; i < n; i++) {
        const s = b[i] as number;
        if (s === 92 /* \ */) i++;
        else if (s === 34) break;
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > MAX_NESTING_DEPTH) return i;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
    }
  }
  return -1;
}

/** JSON.parse with the nesting bound; throws SyntaxError or LimitError. */
export function parseJson(text: string): unknown {
  if (jsonTooDeepAt(text) >= 0) throw new LimitError(`nested deeper than ${MAX_NESTING_DEPTH} levels`);
  return JSON.parse(text) as unknown;
}
