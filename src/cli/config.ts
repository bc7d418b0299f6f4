// `.tunnelmesh.yaml`: suppressions, `failOn` and severity overrides that live in git next to
// the manifests. Found upward from the working directory (as .eslintrc or .kube-linter.yaml
// users expect) or named with --config; flags given on the command line win over it.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import jsyaml from 'js-yaml';
import { InputError, UsageError } from '../errors.js';
import type { FailOn } from '../rules/run.js';
import { parseSeverity, parseSuppressSpec, type Policy, type SuppressionRule } from '../rules/suppress.js';
import type { Severity } from '../rules/types.js';

export const CONFIG_NAMES = ['.tunnelmesh.yaml', '.tunnelmesh.yml'];

export interface TunnelmeshConfig {
  /** As shown in messages (relative to the working directory when below it). */
  file: string;
  failOn?: FailOn;
  /** Exit 1 when a kind could not be listed or an edge could not be judged. */
  failOnIncomplete?: boolean;
  suppressions: SuppressionRule[];
  severity: Record<string, Severity>;
}

const KNOWN_KEYS = new Set(['failOn', 'failOnIncomplete', 'suppress', 'severity']);
const SUPPRESS_KEYS = new Set(['code', 'codes', 'kind', 'namespace', 'name', 'reason']);

/** The nearest config file at or above `cwd`, or undefined. */
export function findConfig(cwd: string = process.cwd()): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    for (const name of CONFIG_NAMES) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function displayName(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/** Loads `--config FILE`, else the nearest `.tunnelmesh.yaml`; undefined when there is none. */
export function loadConfig(explicit: string | undefined, warn: (m: string) => void, cwd: string = process.cwd()): TunnelmeshConfig | undefined {
  const path = explicit ? resolve(cwd, explicit) : findConfig(cwd);
  if (!path) return undefined;
  const file = explicit ?? displayName(path, cwd);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(file, undefined, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? 'error'})`);
  }
  return parseConfig(text, file, warn);
}

export function parseConfig(text: string, file: string, warn: (m: string) => void): TunnelmeshConfig {
  let raw: unknown;
  try {
    raw = jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA });
  } catch (err) {
    if (err instanceof jsyaml.YAMLException) throw new InputError(file, (err.mark?.line ?? 0) + 1, `invalid YAML: ${err.reason}`);
    throw err;
  }
  const config: TunnelmeshConfig = { file, suppressions: [], severity: {} };
  if (raw === null || raw === undefined) return config;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(file, undefined, 'expected a mapping with failOn, suppress and severity');
  const doc = raw as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!KNOWN_KEYS.has(key)) warn(`${file}: unknown key "${key}" ignored (known: ${[...KNOWN_KEYS].join(', ')})`);
  }
  if (doc.failOn !== undefined) {
    config.failOn = doc.failOn === 'none' ? 'none' : parseSeverity(doc.failOn, `${file}: failOn (or none)`);
  }
  if (doc.failOnIncomplete !== undefined) {
    if (typeof doc.failOnIncomplete !== 'boolean') throw new UsageError(`${file}: failOnIncomplete: expected true or false`);
    config.failOnIncomplete = doc.failOnIncomplete;
  }
  if (doc.suppress !== undefined) {
    if (!Array.isArray(doc.suppress)) throw new UsageError(`${file}: suppress: expected a list`);
    doc.suppress.forEach((entry: unknown, i: number) => config.suppressions.push(suppressEntry(entry, `${file} suppress[${i}]`)));
  }
  if (doc.severity !== undefined) {
    if (typeof doc.severity !== 'object' || doc.severity === null || Array.isArray(doc.severity)) {
      throw new UsageError(`${file}: severity: expected a mapping of rule code to error, warning or info`);
    }
    for (const [code, value] of Object.entries(doc.severity)) config.severity[code.toUpperCase()] = parseSeverity(value, `${file}: severity.${code}`);
  }
  return config;
}

/** A list entry: the --suppress string form, or {code(s), kind, namespace, name, reason}. */
function suppressEntry(entry: unknown, origin: string): SuppressionRule {
  if (typeof entry === 'string') return parseSuppressSpec(entry, origin, 'config');
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new UsageError(`${origin}: expected "CODE[=Kind ns/name]" or a mapping with code, kind, namespace, name, reason`);
  }
  const e = entry as Record<string, unknown>;
  for (const key of Object.keys(e)) {
    if (!SUPPRESS_KEYS.has(key)) throw new UsageError(`${origin}: unknown key "${key}" (known: ${[...SUPPRESS_KEYS].join(', ')})`);
  }
  const codes = [e.code, e.codes].flat().filter((c) => c !== undefined);
  if (codes.length === 0 || codes.some((c) => typeof c !== 'string' || c === '')) {
    throw new UsageError(`${origin}: code: expected a rule code (or a list under codes), e.g. TM104`);
  }
  const rule: SuppressionRule = { codes: codes as string[], origin, source: 'config' };
  for (const field of ['kind', 'namespace', 'name', 'reason'] as const) {
    const value = e[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') throw new UsageError(`${origin}: ${field}: expected a string`);
    rule[field] = value;
  }
  return rule;
}

export interface PolicyFlags {
  suppress?: string[];
  failOn?: FailOn;
  /** --fail-on-incomplete (only ever turns it on; the config file may too). */
  failOnIncomplete?: boolean;
  /** --config FILE, or false for --no-config. */
  config?: string | false;
}

export interface ResolvedPolicy {
  policy: Policy;
  failOn: FailOn;
  failOnIncomplete: boolean;
  config?: TunnelmeshConfig;
}

/** Flags over config over defaults. */
export function resolvePolicy(flags: PolicyFlags, warn: (m: string) => void, cwd: string = process.cwd()): ResolvedPolicy {
  const config = flags.config === false ? undefined : loadConfig(flags.config, warn, cwd);
  const fromFlags = (flags.suppress ?? []).map((s) => parseSuppressSpec(s, `--suppress ${s}`, 'flag'));
  const policy: Policy = {
    suppressions: [...fromFlags, ...(config?.suppressions ?? [])],
    severity: config?.severity ?? {},
    ...(config ? { severityOrigin: `${config.file} severity` } : {}),
  };
  const failOn = flags.failOn ?? config?.failOn ?? 'error';
  const failOnIncomplete = flags.failOnIncomplete === true || config?.failOnIncomplete === true;
  return config ? { policy, failOn, failOnIncomplete, config } : { policy, failOn, failOnIncomplete };
}
