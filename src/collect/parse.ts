// Text → documents with the line each starts on. YAML goes through js-yaml, which is
// several times faster than `yaml` on large dumps (measured in bench/); line numbers come
// from splitting the stream on its `---` markers ourselves, which YAML forbids inside content.

import jsyaml from 'js-yaml';
import { InputError } from '../errors.js';
import { jsonTooDeepAt, LimitError, loadYaml, MAX_NESTING_DEPTH } from '../core/limits.js';

export interface ParsedDocument {
  value: unknown;
  /** 1-based line where the document's content starts. */
  line: number;
  /** For `kind: List` documents in YAML: the line of each item, in order. */
  itemLines?: number[];
  /** The chart template `helm template` rendered this document from (its `# Source:` comment). */
  template?: string;
}

/** `bytes`, when given, is the UTF-8 the text was decoded from (JSON's depth check scans it faster). */
export function parseText(text: string, file: string, bytes?: Uint8Array): ParsedDocument[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.includes('\u0000')) throw new InputError(file, 1, 'binary file, not YAML or JSON');
  const first = body.trimStart()[0];
  if (first === '{' || first === '[') {
    const parsed = tryParseJson(body, file, bytes);
    if (parsed) return parsed;
  }
  return parseYamlStream(body, file);
}

/** JSON fast path; returns undefined when the text is not JSON after all (YAML flow style). */
function tryParseJson(text: string, file: string, bytes: Uint8Array | undefined): ParsedDocument[] | undefined {
  // Before JSON.parse, not after: V8 parses nesting iteratively but keeps ~50 bytes a level, so
  // 60 MB of `[` would take 3 GB before failing. Too deep goes to js-yaml, which stops at the
  // limit with its line (and also decides text that only looks nested, e.g. in 'quotes').
  if (jsonTooDeepAt(bytes ?? text) >= 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (jsonErr) {
    // A YAML flow mapping such as `{a: 1}` is not JSON: let the YAML parser decide. When it
    // fails too, its mark gives the line (V8's JSON messages no longer carry a position).
    try {
      loadYaml(text);
    } catch (yamlErr) {
      const line = yamlErr instanceof jsyaml.YAMLException && yamlErr.mark ? yamlErr.mark.line + 1 : jsonErrorLine(text, jsonErr);
      throw new InputError(file, line, `invalid JSON: ${jsonErrorReason(jsonErr)}`);
    }
    return undefined;
  }
  return [{ value, line: lineOfFirstContent(text) }];
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let at = text.indexOf('\n'); at >= 0 && at < index; at = text.indexOf('\n', at + 1)) line++;
  return line;
}

/** 1-based line of the first non-blank character, without splitting a large text. */
function lineOfFirstContent(text: string): number {
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) line++;
    else if (c !== 32 && c !== 9 && c !== 13) break;
  }
  return line;
}

function jsonErrorLine(text: string, err: unknown): number {
  const message = err instanceof Error ? err.message : '';
  const lineCol = /line (\d+) column/.exec(message);
  if (lineCol) return Number(lineCol[1]);
  const position = /position (\d+)/.exec(message);
  return position ? lineAt(text, Number(position[1])) : 1;
}

/** "Unexpected token '#'" out of V8's message (which quotes a snippet of the text, newlines and all). */
function jsonErrorReason(err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
  return message
    .replace(/, (\.\.\.)?"[^]*$/, '')
    .replace(/ in JSON at position \d+.*$/, '')
    .replace(/\s*\(line \d+ column \d+\)$/, '')
    .replace(/ is not valid JSON$/, '');
}

/**
 * Splits the stream on its `---` / `...` lines by offset (a large dump has hundreds of
 * thousands of lines: no array of them is made) and parses each document on its own, so an
 * error or a position is a line of the whole file.
 */
function parseYamlStream(text: string, file: string): ParsedDocument[] {
  const docs: ParsedDocument[] = [];
  const markers = /^(?:---|\.\.\.)(?=[ \t\r]|$)/gm;
  let chunkStart = 0; // offset where the current document's text starts
  let chunkLine = 0; // 0-based line of chunkStart
  let prefix = ''; // `--- {inline: doc}`: the marker blanked out, the content kept in its columns
  let counted = 0; // newlines are counted up to this offset
  let line = 0;
  const lineOf = (offset: number): number => {
    for (let at = text.indexOf('\n', counted); at >= 0 && at < offset; at = text.indexOf('\n', at + 1)) line++;
    counted = offset;
    return line;
  };
  const flush = (end: number): void => {
    if (end <= chunkStart && !prefix) return;
    const doc = parseYamlChunk(prefix + text.slice(chunkStart, end), chunkLine, file);
    if (doc) docs.push(doc);
  };
  for (let m = markers.exec(text); m; m = markers.exec(text)) {
    const at = m.index;
    flush(at);
    const markerLine = lineOf(at);
    if (m[0] === '---') {
      prefix = '   ';
      chunkStart = at + 3;
      chunkLine = markerLine;
    } else {
      const next = text.indexOf('\n', at);
      prefix = '';
      chunkStart = next < 0 ? text.length : next + 1;
      chunkLine = markerLine + 1;
    }
  }
  flush(text.length);
  return docs;
}

/**
 * The message for a file that is a chart template rather than a manifest (`{{ … }}` actions
 * make YAML fail with "missed comma between flow collection entries" and the like).
 */
export function unrenderedHelmMessage(file: string, chartDir?: string): string {
  const chart = chartDir ?? /^(.*?)[\\/]templates[\\/]/.exec(file)?.[1];
  const dir = chart === undefined ? '<chart>' : chart === '' ? '.' : chart;
  return `looks like an unrendered Helm template ({{ … }}): run \`helm template ${dir} | tunnelmesh doctor -f -\` (with the values files you deploy with)`;
}

/** 1-based line (within the chunk) of the first `{{`, or undefined. */
function helmActionLine(chunk: string): number | undefined {
  const at = chunk.indexOf('{{');
  if (at < 0 || chunk.indexOf('}}', at) < 0) return undefined;
  return chunk.slice(0, at).split('\n').length;
}

/** One document's text (starting at 0-based line `firstLine` of the file). */
function parseYamlChunk(chunk: string, firstLine: number, file: string): ParsedDocument | undefined {
  const head = documentHead(chunk);
  if (head.contentLine < 0) return undefined;
  const contentLine = firstLine + head.contentLine;
  let value: unknown;
  try {
    value = loadYaml(chunk, file);
  } catch (err) {
    if (err instanceof jsyaml.YAMLException) {
      const helm = helmActionLine(chunk);
      if (helm !== undefined) throw new InputError(file, firstLine + helm, unrenderedHelmMessage(file));
      const line = firstLine + (err.mark?.line ?? 0) + 1;
      if (/maxDepth/.test(err.reason)) throw new InputError(file, line, `nested deeper than ${MAX_NESTING_DEPTH} levels (refused: no Kubernetes object needs that)`);
      throw new InputError(file, line, `invalid YAML: ${err.reason}`);
    }
    if (err instanceof LimitError) throw new InputError(file, contentLine + 1, `document refused: ${err.message}`);
    throw err;
  }
  if (value === null || value === undefined) return undefined;
  const doc: ParsedDocument = { value, line: contentLine + 1 };
  if (head.template) doc.template = head.template;
  if (isListDocument(value)) {
    const lines = chunk.split('\n');
    doc.itemLines = listItemLines(lines, head.contentLine, lines.length).map((l) => l + firstLine);
  }
  return doc;
}

/**
 * The line (within the chunk) of the first line that is neither blank nor a comment (-1:
 * none), and the chart template of a `helm template` `# Source:` comment above it.
 */
function documentHead(chunk: string): { contentLine: number; template?: string } {
  let template: string | undefined;
  let index = 0;
  for (let from = 0; from <= chunk.length; index++) {
    const nl = chunk.indexOf('\n', from);
    const lineText = chunk.slice(from, nl < 0 ? chunk.length : nl);
    const trimmed = lineText.trim();
    if (trimmed !== '' && !trimmed.startsWith('#')) return template ? { contentLine: index, template } : { contentLine: index };
    const source = /^#\s*Source:\s*(\S.*?)\s*$/.exec(lineText);
    if (source && template === undefined) template = source[1];
    if (nl < 0) break;
    from = nl + 1;
  }
  return { contentLine: -1 };
}

function isListDocument(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Array.isArray((value as { items?: unknown }).items);
}

/**
 * Lines of the entries of the top-level `items:` sequence (as `kubectl get -o yaml` writes
 * them): the `- ` lines at the shallowest indentation below `items:`.
 */
function listItemLines(lines: string[], from: number, end: number): number[] {
  let i = from;
  while (i < end && !/^items:\s*(#.*)?$/.test(lines[i] as string)) i++;
  const out: number[] = [];
  let indent = -1;
  for (i++; i < end; i++) {
    const line = lines[i] as string;
    if (/^\S/.test(line) && !line.startsWith('-')) break; // next top-level key
    const m = /^(\s*)- /.exec(line) ?? /^(\s*)-$/.exec(line);
    if (!m) continue;
    const depth = (m[1] as string).length;
    if (indent < 0) indent = depth;
    if (depth === indent) out.push(i + 1);
  }
  return out;
}
