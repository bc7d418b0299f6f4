// The line of a field inside an object's source text, so a report points at the field at
// fault rather than the object's first line (what Istio's analyzers do with util.ErrorLine
// and the field map their parser keeps). Parsing stays on js-yaml's fast path, which keeps no
// positions: the few objects a finding names are scanned again here, at report time.
//
// YAML is read by its block structure (indentation, `- ` items, `key:` lines), which is how
// kubectl, helm and people write manifests; a flow collection (`{a: 1}`) answers for its
// children with its own line. Lines of a block scalar that look like `key:` lines are taken
// as children of its key, which finds the rules of a cloudflared config inside a ConfigMap.
// JSON is tokenised. When the field is absent, the deepest ancestor that exists answers.

export type FieldPath = ReadonlyArray<string | number>;

/** `spec.ports[0]`, `metadata.annotations["traffic.sidecar.istio.io/excludeInboundPorts"]`. */
export function formatFieldPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

interface Frame {
  col: number;
  key: string | number;
  item: boolean;
  /** Items seen under this key so far. */
  items: number;
}

function unquote(key: string): string {
  const k = key.trim();
  if (k.length >= 2 && k.startsWith('"') && k.endsWith('"')) {
    try {
      return JSON.parse(k) as string;
    } catch {
      return k.slice(1, -1);
    }
  }
  if (k.length >= 2 && k.startsWith("'") && k.endsWith("'")) return k.slice(1, -1).replace(/''/g, "'");
  return k;
}

/** `key: value` / `key:` / `"quoted key": value` at the start of `text`; the key, or undefined. */
function keyOf(text: string): string | undefined {
  const quoted = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*')\s*:(?:\s|$)/.exec(text);
  if (quoted) return unquote(quoted[1] as string);
  const plain = /^([^\s#'"{[\]},&*!|>%@`-][^#]*?|-[^\s#][^#]*?)\s*:(?:\s|$)/.exec(text);
  return plain ? (plain[1] as string) : undefined;
}

function samePrefix(frames: Frame[], path: FieldPath): number {
  let n = 0;
  while (n < frames.length && n < path.length && (frames[n] as Frame).key === path[n]) n++;
  return n;
}

/**
 * 1-based line of `path` in the YAML object that starts at 1-based `fromLine` (the line of its
 * first key, or of its `- ` when it is an item of a List), or undefined when not even the
 * first step of the path is there.
 */
export function yamlFieldLine(text: string, fromLine: number, path: FieldPath): number | undefined {
  const lines = text.split('\n');
  const frames: Frame[] = [];
  let rootCol = -1;
  let best: { depth: number; line: number } | undefined;
  const seen = (lineNo: number): number | undefined => {
    const depth = samePrefix(frames, path);
    if (depth === frames.length && depth > 0 && (!best || depth > best.depth)) best = { depth, line: lineNo };
    return depth === path.length && frames.length === path.length ? lineNo : undefined;
  };
  for (let i = fromLine - 1; i < lines.length; i++) {
    const raw = (lines[i] as string).replace(/\r$/, '');
    if (i > fromLine - 1 && /^(?:---|\.\.\.)(?:\s|$)/.test(raw)) break;
    const content = raw.trimStart();
    if (content === '' || content.startsWith('#') || content.startsWith('{{')) continue;
    let col = raw.length - content.length;
    let rest = content;
    if (rootCol < 0) {
      // The object's own `- ` (a List item) is not a step of the path.
      if (rest.startsWith('- ')) {
        col += 2;
        rest = rest.slice(2).trimStart();
      }
      rootCol = col;
    } else if (col < rootCol || (col === rootCol - 2 && rest.startsWith('-'))) {
      break; // the next List item, or the end of this object
    }
    // `- ` items (possibly nested on one line: `- - a`), then an optional `key:`.
    while (rest === '-' || rest.startsWith('- ')) {
      while (frames.length && ((frames.at(-1) as Frame).col > col || ((frames.at(-1) as Frame).col === col && (frames.at(-1) as Frame).item))) frames.pop();
      const parent = frames.at(-1);
      const index = parent ? parent.items++ : 0;
      frames.push({ col, key: index, item: true, items: 0 });
      const found = seen(i + 1);
      if (found !== undefined) return found;
      const after = rest.slice(1);
      const trimmed = after.trimStart();
      col += 1 + (after.length - trimmed.length);
      rest = trimmed;
      if (rest === '') break;
    }
    const key = keyOf(rest);
    if (key === undefined) continue;
    while (frames.length && (frames.at(-1) as Frame).col >= col) frames.pop();
    frames.push({ col, key, item: false, items: 0 });
    const found = seen(i + 1);
    if (found !== undefined) return found;
  }
  return best?.line;
}

/**
 * 1-based line of `path` in the JSON text, starting at the document that begins at 1-based
 * `fromLine`; `prefix` is the object's own path in the document (`["items", 3]` for a List item).
 */
export function jsonFieldLine(text: string, fromLine: number, path: FieldPath, prefix: FieldPath = []): number | undefined {
  const full = [...prefix, ...path];
  let line = 1;
  let i = 0;
  while (line < fromLine && i < text.length) {
    const nl = text.indexOf('\n', i);
    if (nl < 0) break;
    i = nl + 1;
    line++;
  }
  // Each open container: its kind, the key (object) or index (array) being read.
  const stack: Array<{ array: boolean; key: string | number | undefined; index: number }> = [];
  let best: { depth: number; line: number } | undefined;
  let pendingKey: string | undefined;
  const currentPath = (): Array<string | number> => stack.map((s) => s.key as string | number);
  const atValue = (): number | undefined => {
    const p = currentPath();
    let depth = 0;
    while (depth < p.length && depth < full.length && p[depth] === full[depth]) depth++;
    if (depth === p.length && depth > prefix.length && (!best || depth > best.depth)) best = { depth, line };
    return depth === full.length && p.length === full.length ? line : undefined;
  };
  const beginValue = (): number | undefined => {
    const top = stack.at(-1);
    if (!top) return undefined;
    if (top.array) top.key = top.index++;
    else top.key = pendingKey;
    return atValue();
  };
  for (; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\n') {
      line++;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === ',') continue;
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const str = text.slice(i, j + 1);
      i = j;
      // A key when a colon follows.
      let k = j + 1;
      while (k < text.length && /\s/.test(text[k] as string)) k++;
      const top = stack.at(-1);
      if (text[k] === ':' && top && !top.array) {
        try {
          pendingKey = JSON.parse(str) as string;
        } catch {
          pendingKey = str.slice(1, -1);
        }
        continue;
      }
      const found = beginValue();
      if (found !== undefined) return found;
      continue;
    }
    if (ch === ':') continue;
    if (ch === '{' || ch === '[') {
      const found = beginValue();
      if (found !== undefined) return found;
      stack.push({ array: ch === '[', key: undefined, index: 0 });
      continue;
    }
    if (ch === '}' || ch === ']') {
      stack.pop();
      if (stack.length === 0) break;
      continue;
    }
    // A number, true, false or null.
    const found = beginValue();
    if (found !== undefined) return found;
    while (i + 1 < text.length && !/[\s,\]}]/.test(text[i + 1] as string)) i++;
  }
  return best?.line;
}
