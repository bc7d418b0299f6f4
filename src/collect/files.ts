// Offline collection: files, directories (recursive) and `-` (stdin) → one Snapshot.
// The cluster is never contacted and the Kubernetes client is never imported here.

import { closeSync, constants as fsConstants, createReadStream, openSync } from 'node:fs';
import { open, readdir, readFile, realpath, stat, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { extname, join } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import type { KObject } from '../core/k8s.js';
import { isConfigDump, pruneConfigDump, readDumpWrapper } from '../core/envoy-dump.js';
import { kindOfObject } from '../core/kinds.js';
import { DEFAULT_MAX_INPUT_BYTES, formatSize } from '../core/limits.js';
import { parseText, unrenderedHelmMessage, type ParsedDocument } from './parse.js';
import { addObjects, emptySnapshot, type Snapshot, type SourcePosition } from '../core/snapshot.js';
import { readSnapshotHeader } from './snapshot-file.js';
import { normalizeObject } from './validate.js';
import { pushAll } from '../core/arrays.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface FileInputOptions {
  /** `-n`: namespace of objects that have none, and the scope of findings. */
  namespace?: string;
  /** Reads standard input (tests pass their own). */
  readStdin?: () => Promise<string>;
  /** Each input (file or stdin) is refused above this many bytes (--max-input-size). */
  maxInputBytes?: number;
  /** How long a named pipe (FIFO) may wait for a program to open it for writing. */
  fifoWaitMs?: number;
  /** Keeps each input's text here, by name (`<stdin>` for standard input), for --fix-diff. */
  keepTexts?: Map<string, string>;
}

/** Without --request-timeout's value: as long as a request may take. */
const DEFAULT_FIFO_WAIT_MS = 30_000;

interface RawObject {
  value: unknown;
  position: SourcePosition;
  /** The line of the first `{{` of the text it came from: a name that is not a string is then a Helm action. */
  helmActions?: number;
}

export interface NamedText {
  /** Shown in messages and SARIF (`<stdin>` for standard input). */
  name: string;
  text: string;
  /** The UTF-8 bytes `text` was decoded from, when read here. */
  bytes?: Uint8Array;
  /** Keep the text in the Snapshot (stdin cannot be read twice; reports find field lines in it). */
  keep?: boolean;
}

/** Standard input larger than this is not kept: its findings point at object lines only. */
const MAX_KEPT_TEXT = 16 * 1024 * 1024;

export async function collectFromFiles(paths: string[], opts: FileInputOptions = {}): Promise<Snapshot> {
  const walkWarnings: string[] = [];
  const files = await expandPaths(paths, walkWarnings);
  const limit = opts.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const texts: NamedText[] = [];
  for (const file of files) {
    if (file === '-' && opts.readStdin) texts.push({ name: '<stdin>', text: await opts.readStdin(), keep: true });
    else texts.push(file === '-' ? { ...(await readStdin(limit)), keep: true } : await readText(file, limit, opts.fifoWaitMs ?? DEFAULT_FIFO_WAIT_MS));
    const last = texts.at(-1);
    if (opts.keepTexts && last) opts.keepTexts.set(last.name, last.text);
  }
  const snapshot = collectFromTexts(texts, opts.namespace, paths.map((p) => (p === '-' ? '<stdin>' : p)).join(', '));
  snapshot.warnings = pushAll(walkWarnings, snapshot.warnings);
  return snapshot;
}

/**
 * Parses manifests already in memory (files, stdin, tests) into a Snapshot. Each entry's text
 * and bytes are released once parsed (a large dump would otherwise be held twice over).
 */
export function collectFromTexts(texts: NamedText[], namespace?: string, inputName = texts.map((t) => t.name).join(', ')): Snapshot {
  const raws: RawObject[] = [];
  const kept = new Map<string, string>();
  for (let i = 0; i < texts.length; i++) {
    const { name, text, bytes, keep } = texts[i] as NamedText;
    texts[i] = { name, text: '' };
    const action = text.indexOf('{{');
    const helmActions = action < 0 ? undefined : lineOfOffset(text, action);
    for (const doc of parseText(text, name, bytes)) for (const raw of documentObjects(doc, name)) raws.push(helmActions ? { ...raw, helmActions } : raw);
    if (keep && text.length <= MAX_KEPT_TEXT) kept.set(name, text);
  }
  const snapshot = emptySnapshot('files');
  if (kept.size) snapshot.texts = kept;
  const defaultNamespace = chooseDefaultNamespace(raws, namespace, snapshot.warnings);
  const objects: KObject[] = [];
  let ignored = 0;
  for (const raw of raws) {
    const where = `${raw.position.file}:${raw.position.line}`;
    // A template whose actions happen to be valid YAML (`name: "{{ .Release.Name }}"`) is not a manifest either.
    const meta = (raw.value as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
    // `name: {{ .Values.x }}` parses as a flow mapping: a name that is an object, in a text with `{{`.
    if ([meta?.name, meta?.namespace].some((v) => (typeof v === 'string' && v.includes('{{')) || (raw.helmActions && typeof v === 'object' && v !== null))) {
      throw new InputError(raw.position.file, raw.helmActions ?? raw.position.line, unrenderedHelmMessage(raw.position.file));
    }
    const header = readSnapshotHeader(raw.value);
    if (header) {
      // A `tunnelmesh snapshot` file: judge it as the run that wrote it did.
      if (header.live) snapshot.live = header.live;
      if (header.listed) snapshot.listed = pushAll(snapshot.listed ?? [], header.listed);
      pushAll(snapshot.incomplete, header.incomplete);
      continue;
    }
    // Envoy config dumps: a snapshot's EnvoyConfigDump documents, or a saved dump among the manifests.
    const wrapped = readDumpWrapper(raw.value);
    if (wrapped || isConfigDump(raw.value)) {
      ignored++;
      const dump = wrapped ? wrapped.dump : raw.value;
      if (!isConfigDump(dump)) {
        snapshot.warnings.push(`${where}: EnvoyConfigDump without a config dump in configDump (expected configs: [...]): skipped`);
        continue;
      }
      const source = wrapped && typeof (raw.value as { source?: unknown }).source === 'string' ? `${where} (${(raw.value as { source: string }).source})` : where;
      (snapshot.proxyConfigs ??= []).push({ source, live: false, ...(wrapped?.pod ? { pod: wrapped.pod } : {}), dump: pruneConfigDump(dump) });
      continue;
    }
    const { kind, apiVersion } = (raw.value as { kind?: unknown; apiVersion?: unknown } | null) ?? {};
    if (typeof kind === 'string' && kind !== '' && !kindOfObject(kind, typeof apiVersion === 'string' ? apiVersion : undefined)) {
      ignored++; // kinds no rule reads (ServiceAccount, Secret, CRDs…) are not judged
      continue;
    }
    const obj = normalizeObject(
      raw.value,
      where,
      { defaultNamespace, isNamespaced: (k, v) => kindOfObject(k, v)?.namespaced ?? true },
      (m) => snapshot.warnings.push(m),
    );
    if (!obj) continue;
    snapshot.positions.set(obj, raw.position);
    objects.push(obj);
  }
  addObjects(snapshot, objects, (o) => describeObject(o, snapshot.positions.get(o)));
  if (raws.length === 0) throw new InputError(inputName, undefined, 'no Kubernetes objects found');
  if (snapshot.objects.length === 0 && ignored === 0) {
    throw new InputError(inputName, undefined, `no readable Kubernetes objects found (${snapshot.warnings[0] ?? 'every object was skipped'})`);
  }
  return snapshot;
}

function describeObject(o: KObject, position: SourcePosition | undefined): string {
  const ref = o.metadata.namespace ? `${o.kind} ${o.metadata.namespace}/${o.metadata.name}` : `${o.kind} ${o.metadata.name}`;
  return position ? `${ref} (${position.file}:${position.line})` : ref;
}

/** `kind: List` and `*List` documents (kubectl dumps) hold their objects in `items`. */
function documentObjects(doc: ParsedDocument, file: string): RawObject[] {
  const value = doc.value as { kind?: unknown; items?: unknown };
  const isList =
    typeof value === 'object' &&
    value !== null &&
    typeof value.kind === 'string' &&
    value.kind.endsWith('List') &&
    Array.isArray(value.items);
  const template = doc.template ? { template: doc.template } : {};
  if (!isList) return [{ value: doc.value, position: { file, line: doc.line, ...template } }];
  const items = value.items as unknown[];
  const inheritedKind = (value.kind as string) === 'List' ? undefined : (value.kind as string).slice(0, -4);
  return items.map((item, i) => {
    // `kubectl get pods -o json` items carry their kind; raw API lists (PodList) do not.
    if (inheritedKind && typeof item === 'object' && item !== null && !('kind' in item)) {
      (item as Record<string, unknown>).kind = inheritedKind;
    }
    return { value: item, position: { file, line: doc.itemLines?.[i] ?? doc.line, item: i, ...template } };
  });
}

/**
 * Namespace for objects that have none: `-n`, as kubectl apply would use; else, when the
 * input creates exactly one Namespace (a chart that brings its own), that one; else default.
 */
function chooseDefaultNamespace(raws: RawObject[], flag: string | undefined, warnings: string[]): string {
  if (flag) return flag;
  const namespaces = new Set<string>();
  let orphans = 0;
  for (const { value } of raws) {
    const o = value as { kind?: unknown; apiVersion?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
    if (!o || typeof o.kind !== 'string') continue;
    if (o.kind === 'Namespace' && typeof o.metadata?.name === 'string') namespaces.add(o.metadata.name);
    else if (kindOfObject(o.kind, typeof o.apiVersion === 'string' ? o.apiVersion : undefined)?.namespaced && !o.metadata?.namespace) orphans++;
  }
  if (orphans > 0 && namespaces.size === 1) {
    const only = [...namespaces][0] as string;
    warnings.push(
      `${orphans} object(s) have no metadata.namespace: placed in namespace ${only}, the only Namespace in the input (pass -n to choose)`,
    );
    return only;
  }
  return 'default';
}

async function expandPaths(paths: string[], warnings: string[]): Promise<string[]> {
  if (paths.length === 0) throw new UsageError('-f needs a file, a directory or - for standard input');
  if (paths.filter((p) => p === '-').length > 1) throw new UsageError('standard input (-) can be read only once');
  const out: string[] = [];
  for (const path of paths) {
    if (path === '-') {
      out.push(path);
      continue;
    }
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new InputError(path, undefined, 'no such file or directory');
    }
    if (info.isDirectory()) {
      // A chart's own directory: its templates are not manifests until helm renders them.
      if (await isChartDirectory(path)) throw new InputError(path, undefined, unrenderedHelmMessage(path, path));
      pushAll(out, await walk(path, new Set(), new Set(), warnings));
    }
    else out.push(path);
  }
  return out;
}

/** A Helm chart: Chart.yaml next to a templates/ directory. */
async function isChartDirectory(dir: string): Promise<boolean> {
  try {
    const [chart, templates] = await Promise.all([stat(join(dir, 'Chart.yaml')), stat(join(dir, 'templates'))]);
    return chart.isFile() && templates.isDirectory();
  } catch {
    return false;
  }
}

/**
 * Manifest files below a directory, in a stable order. Symbolic links are followed (to files
 * and to directories), each real directory and file read once: a link back up the tree (a
 * loop) or to a file already read is skipped with a word, and so is a link that leads nowhere.
 */
async function walk(dir: string, seenDirs: Set<string>, seenFiles: Set<string>, warnings: string[]): Promise<string[]> {
  seenDirs.add(await realpath(dir));
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const manifest = MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase());
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      let real: string;
      try {
        real = await realpath(path);
        const target = await stat(real);
        isDir = target.isDirectory();
        isFile = target.isFile();
      } catch {
        if (manifest) warnings.push(`${path}: a symbolic link to nothing (skipped)`);
        continue;
      }
      if (isDir && seenDirs.has(real)) {
        warnings.push(`${path}: a symbolic link to ${real}, a directory already read (skipped: it would loop or read twice)`);
        continue;
      }
      if (isFile && manifest && seenFiles.has(real)) {
        warnings.push(`${path}: a symbolic link to ${real}, a file already read (skipped)`);
        continue;
      }
    }
    if (isDir) pushAll(out, await walk(path, seenDirs, seenFiles, warnings));
    else if (!isFile && manifest) {
      // A named pipe or a device would block or never end; read only when asked for by name.
      warnings.push(`${path}: not a regular file (a named pipe, socket or device): skipped; give it to -f on its own to read it`);
    } else if (isFile && manifest) {
      const real = await realpath(path);
      if (seenFiles.has(real)) continue;
      seenFiles.add(real);
      out.push(path);
    }
  }
  return out;
}

function named(name: string, bytes: Buffer): NamedText {
  return { name, text: decode(bytes, name), bytes };
}

/** One file as text, refused above `limit` bytes (--max-input-size) or when it is not UTF-8; a named pipe waits `fifoWaitMs` for a writer. */
export async function readText(file: string, limit: number, fifoWaitMs = DEFAULT_FIFO_WAIT_MS): Promise<NamedText> {
  try {
    const info = await stat(file);
    // Opening a named pipe waits for a writer: bounded, or a FIFO nobody writes to would hang the run.
    // A pipe cannot be read a second time (reports look for field lines in the text): kept, as stdin is.
    if (info.isFIFO()) {
      const handle = await openFifo(file, fifoWaitMs);
      return { ...named(file, await readCapped(handle.createReadStream(), file, limit)), keep: true };
    }
    // Devices and other streams have no size: read them capped.
    if (!info.isFile()) return { ...named(file, await readCapped(createReadStream(file), file, limit)), keep: true };
    if (info.size > limit) throw tooLarge(file, limit, info.size);
    return named(file, await readFile(file));
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(file, undefined, code === 'EACCES' ? 'permission denied' : `cannot read (${code ?? 'error'})`);
  }
}

/**
 * Opens a FIFO for reading, which blocks (in libuv's thread pool) until some program opens it
 * for writing — at once for `<(helm template …)`, whose writer is already there. After
 * `waitMs` with no writer the run gives up; opening the FIFO for writing ourselves (non-blocking:
 * our pending read-open counts as a reader) releases that thread, and the descriptor it gets is closed.
 */
async function openFifo(file: string, waitMs: number): Promise<FileHandle> {
  const opening = open(file, 'r');
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), waitMs);
  });
  const first = await Promise.race([opening, gaveUp]);
  clearTimeout(timer);
  if (first !== 'timeout') return first;
  try {
    closeSync(openSync(file, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK));
  } catch {
    // A writer came meanwhile, or the FIFO went: the pending open settles either way.
  }
  void opening.then((h) => h.close()).catch(() => undefined);
  throw new InputError(file, undefined, `a named pipe (FIFO) that no program opened for writing within ${waitMs} ms (--request-timeout)`);
}

async function readStdin(limit: number): Promise<NamedText> {
  if (process.stdin.isTTY) throw new UsageError('-f - reads manifests from standard input, but it is a terminal');
  return named('<stdin>', await readCapped(process.stdin, '<stdin>', limit));
}

/** Refusal naming the limit and a value that would let this input through. */
function tooLarge(name: string, limit: number, size?: number): InputError {
  const suggestion = `${Math.ceil(Math.max(size ?? limit * 4, limit + 1) / 1024 ** 2)}Mi`;
  const what = size === undefined ? 'longer than' : `${formatSize(size)}, over`;
  return new InputError(name, undefined, `${what} the input size limit of ${formatSize(limit)} (raise it with --max-input-size ${suggestion})`);
}

/** Reads a stream to its end, or refuses as soon as it passes `limit` bytes (memory stays bounded). */
async function readCapped(stream: Readable, name: string, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      stream.destroy();
      throw tooLarge(name, limit);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes → text, refusing what is not UTF-8 text (Kubernetes manifests are): binaries, UTF-16, broken encodings. */
export function decode(bytes: Buffer, name: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new InputError(name, 1, 'UTF-16 text: save it as UTF-8');
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new InputError(name, lineOfByte(bytes, nul), 'binary file (a NUL byte), not YAML or JSON');
  try {
    return utf8.decode(bytes);
  } catch {
    const text = bytes.toString('utf8');
    const bad = text.indexOf('\uFFFD');
    const line = bad < 0 ? undefined : text.slice(0, bad).split('\n').length;
    throw new InputError(name, line, 'not UTF-8 text (a binary file, or another encoding)');
  }
}

function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let at = text.indexOf('\n'); at >= 0 && at < offset; at = text.indexOf('\n', at + 1)) line++;
  return line;
}

function lineOfByte(bytes: Buffer, index: number): number {
  let line = 1;
  for (let at = bytes.indexOf(10); at >= 0 && at < index; at = bytes.indexOf(10, at + 1)) line++;
  return line;
}
