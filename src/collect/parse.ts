// Text → documents with the line each starts on. YAML goes through js-yaml, which is
// several times faster than `yaml` on large dumps (measured in bench/); line numbers come
// from splitting the stream on its `---` markers ourselves, which YAML forbids inside content.

import jsyaml from 'js-yaml';
import { InputError } from '../errors.js';
import { jsonTooDeepAt, LimitError, loadYaml, MAX_NESTING_DEPTH, YAML_SCHEMA } from './limits.js';

export interface ParsedDocument {
  value: unknown;
  /** 1-based line where the document's content starts. */
  line: number;
  /** For `kind: List` documents in YAML: the line of each item, in order. */
  itemLines?: number[];
  /** The chart template `helm template` rendered this document from (its `# Source:` comment). */
  template?: string;
}

const DOC_START = /^---(?:[ \t]|$)/;
const DOC_END = /^\.\.\.(?:[ \t]|$)/;

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
  const tooDeep = jsonTooDeepAt(bytes ?? text);
  if (tooDeep >= 0) throw new InputError(file, bytes ? lineAtByte(bytes, tooDeep) : lineAt(text, tooDeep), `nested deeper than ${MAX_NESTING_DEPTH} levels (refused: no Kubernetes object needs that)`);
  return [{ value, line: lineOfFirstContent(text) }];
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let at = text.indexOf('\n'); at >= 0 && at < index; at = text.indexOf('\n', at + 1)) line++;
  return line;
}

function lineAtByte(bytes: Uint8Array, index: number): number {
  let line = 1;
  for (let at = bytes.indexOf(10); at >= 0 && at < index; at = bytes.indexOf(10, at + 1)) line++;
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

function parseYamlStream(text: string, file: string): ParsedDocument[] {
  const lines = text.split('\n');
  const docs: ParsedDocument[] = [];
  let start = 0;
  const flush = (end: number): void => {
    if (end > start) {
      const doc = parseYamlChunk(lines, start, end, file);
      if (doc) docs.push(doc);
    }
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (DOC_START.test(line)) {
      flush(i);
      // `--- {inline: doc}` keeps its content; the marker itself is blanked out.
      lines[i] = '   ' + line.slice(3);
      start = i;
    } else if (DOC_END.test(line)) {
      flush(i);
      start = i + 1;
    }
  }
  flush(lines.length);
  return docs;
}

function parseYamlChunk(lines: string[], start: number, end: number, file: string): ParsedDocument | undefined {
  const contentLine = firstContentLine(lines, start, end);
  if (contentLine < 0) return undefined;
  const chunk = lines.slice(start, end).join('\n');
  let value: unknown;
  try {
    value = loadYaml(chunk, file);
  } catch (err) {
    if (err instanceof jsyaml.YAMLException) {
      const line = start + (err.mark?.line ?? 0) + 1;
      if (/maxDepth/.test(err.reason)) throw new InputError(file, line, `nested deeper than ${MAX_NESTING_DEPTH} levels (refused: no Kubernetes object needs that)`);
      throw new InputError(file, line, `invalid YAML: ${err.reason}`);
    }
    if (err instanceof LimitError) throw new InputError(file, contentLine + 1, `document refused: ${err.message}`);
    throw err;
  }
  if (value === null || value === undefined) return undefined;
  const doc: ParsedDocument = { value, line: contentLine + 1 };
  const template = helmSource(lines, start, contentLine);
  if (template) doc.template = template;
  if (isListDocument(value)) doc.itemLines = listItemLines(lines, contentLine, end);
  return doc;
}

/** `helm template` writes `# Source: <chart>/templates/<file>` above each document. */
function helmSource(lines: string[], start: number, contentLine: number): string | undefined {
  for (let i = start; i < contentLine; i++) {
    const m = /^#\s*Source:\s*(\S.*?)\s*$/.exec(lines[i] as string);
    if (m) return m[1];
  }
  return undefined;
}

/** Index of the first line that is neither blank nor a comment, or -1. */
function firstContentLine(lines: string[], start: number, end: number): number {
  const stop = Math.min(end, lines.length);
  for (let i = start; i < stop; i++) {
    const trimmed = (lines[i] as string).trim();
    if (trimmed !== '' && !trimmed.startsWith('#')) return i;
  }
  return -1;
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
