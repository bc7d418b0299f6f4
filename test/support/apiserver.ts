// A loopback stand-in for kube-apiserver, so tests can drive the live collector through
// the real @kubernetes/client-node stack (TLS, bearer tokens, client certificates, JSON).
//
// It imitates the parts of a real API server that a read-only client can observe:
// discovery, list/get routes for every kind in src/core/kinds.ts (plus kinds a test
// registers), 401/403/404 bodies worded like the real thing, label and field selectors,
// limit/continue pagination over consistent snapshots, and "404 page not found" for API
// groups that are not installed. Faults (errors, latency, resets, broken bodies, expired
// continue tokens) can be injected to exercise retry paths. It never accepts writes: any
// non-GET request gets 405 and stays in the request log for tests to assert on.

import { createHash, randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import { Socket, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TLSSocket } from 'node:tls';
import { KINDS, apiVersionOf, type KindInfo } from '../../src/core/kinds.js';
import type { KObject } from '../../src/core/k8s.js';
import { testPki } from './certs.js';

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

export type ApiObject = KObject;

/** Identifies one stored object (an ApiObject is one too). */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

export type ReadVerb = 'get' | 'list' | 'watch';

/** Denies reads the way a missing RBAC grant does. */
export interface ForbiddenRule {
  /** Kind (`Pod`) or plural resource (`pods`). */
  kind: string;
  /** Narrows the rule to one API group when a kind name exists in several (Gateway). */
  group?: string;
  /**
   * Omitted: forbidden everywhere. Given: forbidden in that namespace and for cluster-wide
   * lists of the kind (a user who cannot read one namespace cannot list all of them).
   */
  namespace?: string;
  /** Defaults to every read verb. */
  verbs?: readonly ReadVerb[];
}

/** Misbehaviour injected into a response. Fields compose; `times` limits how often it fires. */
export interface Fault {
  /** Answer with this status and a matching Status body instead of the real response. */
  status?: number;
  /** Sent as Retry-After and as details.retryAfterSeconds (with status, usually 429/503). */
  retryAfterSeconds?: number;
  /** Wait this long before answering (added to the server-wide latency). */
  delayMs?: number;
  /** Send the headers and part of the body, then reset the TCP connection. */
  resetConnection?: boolean;
  /** Send only the first half of the body, then end the response cleanly. */
  truncateBody?: boolean;
  /** Send a 200-class body that is not JSON. */
  invalidJson?: boolean;
  /** Answer 410 Expired; fires only for requests that carry a continue token. */
  expireContinue?: boolean;
  /** How many requests this fault may affect; unlimited when omitted. Counted per Fault object. */
  times?: number;
}

/** What a fault hook or rule sees of a request. */
export interface FaultRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Set for resource requests (`/api/v1/namespaces/app/pods`), from the path alone. */
  resource?: { group: string; version: string; plural: string; namespace?: string; name?: string; verb: string };
  /** The registered kind the path names, if any. */
  kind?: KindInfo;
  continueToken?: string;
}

export type FaultHook = (req: FaultRequest) => Fault | readonly Fault[] | undefined;

export interface FaultRule extends Fault {
  /** Which requests the fault applies to; every request when omitted. */
  match?: (req: FaultRequest) => boolean;
}

export interface FaultHandle {
  /** Requests this fault has affected so far. */
  readonly hits: number;
  remove(): void;
}

export interface RequestLogEntry {
  method: string;
  /** Decoded path without the query string. */
  path: string;
  query: Record<string, string>;
  /** Raw request target as sent (path + query). */
  url: string;
  /** 0 until the response headers are written (or if the connection was dropped first). */
  status: number;
  userAgent: string | undefined;
  /** Date.now() when the request arrived. */
  time: number;
  /** Authenticated user, if any (never the credential itself). */
  user: string | undefined;
  /** Fault effects applied to this request, e.g. ['delay', 'status:503']. */
  faults: string[];
}

export interface ApiServerOptions {
  objects?: readonly ApiObject[];
  /** Kinds to serve on top of KINDS (e.g. Secret, to prove the product never asks for them). */
  kinds?: readonly KindInfo[];
  /** Accepted bearer token; default 'test-token'. */
  token?: string;
  /** User the token authenticates as (appears in 403 messages). */
  userName?: string;
  forbidden?: readonly ForbiddenRule[];
  /** API groups that are not installed: everything under /apis/<group> is "404 page not found". */
  absentGroups?: readonly string[];
  /** Groups that serve only some versions, e.g. {'networking.istio.io': ['v1beta1']}. */
  groupVersions?: Readonly<Record<string, readonly string[]>>;
  /** Called for every request; may return faults to apply. */
  fault?: FaultHook;
  faults?: readonly FaultRule[];
  /** Latency added to every request. */
  latencyMs?: number;
  /** Reported by /version; default v1.30.2. */
  gitVersion?: string;
  /** Snapshots kept for continue tokens; older tokens get 410 Expired. Default 64. */
  retainedSnapshots?: number;
  port?: number;
  /**
   * What the pod proxy subresource (`/api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH`) answers,
   * keyed `NS/NAME:PORT`. A pod not listed answers as a stock Istio sidecar does (its admin port
   * listens on localhost only): 503 "error trying to reach service … connection refused".
   * RBAC: a ForbiddenRule with kind `pods/proxy` denies it.
   */
  podProxy?: Readonly<Record<string, PodProxyAnswer>>;
}

/** One pod proxy answer: a JSON body (200), or a status with the message kube-apiserver would give. */
export type PodProxyAnswer = { body: unknown } | { status: number; message: string } | { rawBody: string; contentType?: string };

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  readonly caPem: string;
  /** The bearer token the server accepts (a throwaway, for writing kubeconfigs). */
  readonly token: string;
  /** Every request in arrival order, including rejected and non-GET ones. */
  readonly requests: RequestLogEntry[];
  /** Adds or replaces objects (one new snapshot per call: pass many at once). */
  putObjects(objects: readonly ApiObject[]): void;
  /** Removes one object; false when it was not there. */
  deleteObject(ref: ObjectRef): boolean;
  /** Replaces the whole store. */
  replaceObjects(objects: readonly ApiObject[]): void;
  registerKind(info: KindInfo): void;
  setForbidden(rules: readonly ForbiddenRule[]): void;
  setAbsentGroups(groups: readonly string[]): void;
  /** Restricts a group to some versions; undefined restores the versions its kinds declare. */
  setGroupVersions(group: string, versions: readonly string[] | undefined): void;
  addFault(rule: FaultRule): FaultHandle;
  clearFaults(): void;
  setLatency(ms: number): void;
  setPodProxy(key: string, answer: PodProxyAnswer | undefined): void;
  /** Forgets old snapshots, as an etcd compaction does: outstanding continue tokens get 410. */
  expireContinueTokens(): void;
  clearRequests(): void;
  close(): Promise<void>;
}

/** Default identity of the bearer token, as a CI service account would appear. */
export const DEFAULT_USER = 'system:serviceaccount:ci:tunnelmesh';
export const DEFAULT_TOKEN = 'test-token';

/** Secrets are not in KINDS on purpose; register this to prove they are never read. */
export const SECRET_KIND: KindInfo = {
  kind: 'Secret',
  id: 'Secret',
  group: '',
  versions: ['v1'],
  plural: 'secrets',
  namespaced: true,
  crd: false,
};

export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const server = new LoopbackApiServer(options);
  await server.listen(options.port ?? 0);
  return server;
}

// ---------------------------------------------------------------------------------------
// Kinds and API groups
// ---------------------------------------------------------------------------------------

class KindRegistry {
  private readonly byGroupKind = new Map<string, KindInfo>();
  private readonly byGroupPlural = new Map<string, KindInfo>();
  private readonly absentGroups = new Set<string>();
  private readonly versionOverrides = new Map<string, readonly string[]>();

  register(info: KindInfo): void {
    this.byGroupKind.set(`${info.group}/${info.kind}`, info);
    this.byGroupPlural.set(`${info.group}/${info.plural}`, info);
  }

  all(): KindInfo[] {
    return [...this.byGroupKind.values()];
  }

  byKind(group: string, kind: string): KindInfo | undefined {
    return this.byGroupKind.get(`${group}/${kind}`);
  }

  byPlural(group: string, plural: string): KindInfo | undefined {
    return this.byGroupPlural.get(`${group}/${plural}`);
  }

  setAbsent(groups: readonly string[]): void {
    this.absentGroups.clear();
    for (const group of groups) if (group !== '') this.absentGroups.add(group);
  }

  setVersions(group: string, versions: readonly string[] | undefined): void {
    if (versions) this.versionOverrides.set(group, versions);
    else this.versionOverrides.delete(group);
  }

  /** Versions a group serves, preferred first; [] when the group is not installed. */
  servedVersions(group: string): string[] {
    if (this.absentGroups.has(group)) return [];
    const override = this.versionOverrides.get(group);
    if (override) return [...override];
    const versions: string[] = [];
    for (const info of this.byGroupKind.values()) {
      if (info.group !== group) continue;
      for (const v of info.versions) if (!versions.includes(v)) versions.push(v);
    }
    return versions;
  }

  /** Installed groups other than core, in registration order. */
  installedGroups(): string[] {
    const groups: string[] = [];
    for (const info of this.byGroupKind.values()) {
      if (info.group !== '' && !groups.includes(info.group) && this.servedVersions(info.group).length > 0) {
        groups.push(info.group);
      }
    }
    return groups;
  }

  isServed(info: KindInfo, version: string): boolean {
    return info.versions.includes(version) && this.servedVersions(info.group).includes(version);
  }

  kindsServedAt(group: string, version: string): KindInfo[] {
    return this.all().filter((info) => info.group === group && this.isServed(info, version));
  }
}

function groupOfApiVersion(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

// ---------------------------------------------------------------------------------------
// Object store: immutable snapshots, one per mutation, so continue tokens read consistently
// ---------------------------------------------------------------------------------------

class StoredObject {
  readonly labels: Record<string, string>;
  /** List-item JSON per served version (built-in kinds use one entry: they carry no apiVersion). */
  private readonly itemJson = new Map<string, string>();

  constructor(
    readonly info: KindInfo,
    readonly namespace: string,
    readonly name: string,
    readonly object: ApiObject,
  ) {
    this.labels = object.metadata.labels ?? {};
  }

  get key(): string {
    return objectKey(this.namespace, this.name);
  }

  /** The object as a GET returns it at `version`. */
  asObject(version: string): Record<string, unknown> {
    const { apiVersion: _apiVersion, kind, ...rest } = this.object;
    const apiVersion = apiVersionOf(this.info, version);
    // Built-in types are encoded kind-first; custom resources keep their stored (apiVersion-first) order.
    return this.info.crd ? { apiVersion, kind, ...rest } : { kind, apiVersion, ...rest };
  }

  /** The object as an item of a list at `version`, serialized once and cached. */
  listItemJson(version: string): string {
    const cacheKey = this.info.crd ? version : '';
    let json = this.itemJson.get(cacheKey);
    if (json === undefined) {
      // kube-apiserver drops apiVersion/kind from items of typed (built-in) lists;
      // custom resources are unstructured and keep them.
      const { apiVersion: _apiVersion, kind: _kind, ...rest } = this.object;
      json = JSON.stringify(this.info.crd ? this.asObject(version) : rest);
      this.itemJson.set(cacheKey, json);
    }
    return json;
  }
}

function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** All objects of one kind, sorted by namespace then name. */
class Collection {
  readonly sorted: StoredObject[];
  private namespaces: Map<string, StoredObject[]> | undefined;

  constructor(readonly byKey: ReadonlyMap<string, StoredObject>) {
    this.sorted = [...byKey.values()].sort(compareStored);
  }

  /** Objects of one namespace, or all of them when namespace is undefined. */
  scope(namespace: string | undefined): StoredObject[] {
    if (namespace === undefined) return this.sorted;
    this.namespaces ??= groupByNamespace(this.sorted);
    return this.namespaces.get(namespace) ?? [];
  }
}

function compareStored(a: StoredObject, b: StoredObject): number {
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return 0;
}

function groupByNamespace(sorted: readonly StoredObject[]): Map<string, StoredObject[]> {
  const groups = new Map<string, StoredObject[]>();
  for (const stored of sorted) {
    let list = groups.get(stored.namespace);
    if (!list) groups.set(stored.namespace, (list = []));
    list.push(stored);
  }
  return groups;
}

const EMPTY_COLLECTION = new Collection(new Map());

interface Snapshot {
  resourceVersion: number;
  /** Keyed by `${group}/${kind}`. */
  collections: ReadonlyMap<string, Collection>;
}

type Change = { put: StoredObject } | { remove: { info: KindInfo; key: string } };

/** Fixed so that generated fields are the same on every run. */
const CREATION_TIMESTAMP = '2024-01-01T00:00:00Z';
const FIRST_RESOURCE_VERSION = 1000;

class ObjectStore {
  private counter = FIRST_RESOURCE_VERSION;
  private readonly history = new Map<number, Snapshot>();
  private current: Snapshot = { resourceVersion: this.counter, collections: new Map() };

  constructor(private readonly retained: number) {
    this.history.set(this.current.resourceVersion, this.current);
  }

  get latest(): Snapshot {
    return this.current;
  }

  /** A past snapshot still available to continue tokens. */
  at(resourceVersion: number): Snapshot | undefined {
    return this.history.get(resourceVersion);
  }

  compact(): void {
    this.history.clear();
    this.history.set(this.current.resourceVersion, this.current);
  }

  /** Deep-copies and completes an object, assigning it the next resource version. */
  prepare(info: KindInfo, object: ApiObject): StoredObject {
    const copy = structuredClone(object);
    const name = copy.metadata?.name;
    if (typeof name !== 'string' || name === '') throw new Error(`${object.kind}: metadata.name is required`);
    const namespace = copy.metadata.namespace ?? '';
    if (info.namespaced && namespace === '') {
      throw new Error(`${object.kind} ${name}: metadata.namespace is required for a namespaced kind`);
    }
    if (!info.namespaced && namespace !== '') {
      throw new Error(`${object.kind} ${name}: ${object.kind} is cluster-scoped, drop metadata.namespace`);
    }
    this.counter += 1;
    copy.metadata.uid ??= deterministicUid(`${info.group}/${info.kind}/${namespace}/${name}`);
    copy.metadata.resourceVersion ??= String(this.counter);
    copy.metadata.creationTimestamp ??= CREATION_TIMESTAMP;
    return new StoredObject(info, namespace, name, copy);
  }

  /** Applies changes as one new snapshot; untouched kinds share their collections. */
  commit(changes: readonly Change[], replaceAll = false): void {
    const edited = new Map<string, Map<string, StoredObject>>();
    const editable = (info: KindInfo): Map<string, StoredObject> => {
      const id = `${info.group}/${info.kind}`;
      let byKey = edited.get(id);
      if (!byKey) {
        byKey = replaceAll ? new Map() : new Map(this.current.collections.get(id)?.byKey ?? []);
        edited.set(id, byKey);
      }
      return byKey;
    };
    for (const change of changes) {
      if ('put' in change) editable(change.put.info).set(change.put.key, change.put);
      else editable(change.remove.info).delete(change.remove.key);
    }
    const collections = new Map(replaceAll ? [] : this.current.collections);
    for (const [id, byKey] of edited) collections.set(id, new Collection(byKey));
    this.counter += 1;
    this.current = { resourceVersion: this.counter, collections };
    this.history.set(this.counter, this.current);
    for (const rv of this.history.keys()) {
      if (this.history.size <= this.retained) break;
      this.history.delete(rv);
    }
  }
}

function collectionOf(snapshot: Snapshot, info: KindInfo): Collection {
  return snapshot.collections.get(`${info.group}/${info.kind}`) ?? EMPTY_COLLECTION;
}

/** A UUID-shaped id derived from the object's identity, stable across runs. */
function deterministicUid(identity: string): string {
  const hex = createHash('sha1').update(identity).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------
// Selectors (the subset of k8s.io/apimachinery/pkg/labels and fields that clients send)
// ---------------------------------------------------------------------------------------

class BadRequest extends Error {}

type LabelOperator = 'exists' | 'notexists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

type SelectorToken = { type: 'identifier'; text: string } | { type: 'symbol'; text: string };

const SELECTOR_SYMBOLS = ['==', '!=', '=', '!', '<', '>'];

function tokenizeSelector(text: string): SelectorToken[] {
  const tokens: SelectorToken[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text.charAt(i);
    if (/\s/.test(ch)) {
      i += 1;
    } else if ('(),'.includes(ch)) {
      tokens.push({ type: 'symbol', text: ch });
      i += 1;
    } else if ('=!<>'.includes(ch)) {
      let end = i;
      while (end < text.length && '=!<>'.includes(text.charAt(end))) end += 1;
      const run = text.slice(i, end);
      if (!SELECTOR_SYMBOLS.includes(run)) throw new BadRequest(`unable to parse requirement: found '${run}', expected: operator`);
      tokens.push({ type: 'symbol', text: run });
      i = end;
    } else {
      let end = i;
      while (end < text.length && !/[\s(),=!<>]/.test(text.charAt(end))) end += 1;
      tokens.push({ type: 'identifier', text: text.slice(i, end) });
      i = end;
    }
  }
  return tokens;
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkLabelKey(key: string): string {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  const validName = name.length <= 63 && LABEL_NAME.test(name);
  const validPrefix = prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
  if (!validName || !validPrefix) throw new BadRequest(`unable to parse requirement: invalid label key "${key}"`);
  return key;
}

function checkLabelValue(value: string): string {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    throw new BadRequest(`unable to parse requirement: invalid label value: "${value}"`);
  }
  return value;
}

function parseLabelSelector(text: string): LabelRequirement[] {
  return new LabelSelectorParser(tokenizeSelector(text)).parse();
}

/** Recursive descent over: requirement (',' requirement)*, as labels.Parse accepts. */
class LabelSelectorParser {
  private pos = 0;

  constructor(private readonly tokens: readonly SelectorToken[]) {}

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    while (this.pos < this.tokens.length) {
      requirements.push(this.requirement());
      const separator = this.next();
      if (separator !== undefined && separator.text !== ',') this.fail(separator, "','");
    }
    return requirements;
  }

  private requirement(): LabelRequirement {
    if (this.peek()?.text === '!') {
      this.next();
      return { key: checkLabelKey(this.identifier()), operator: 'notexists', values: [] };
    }
    const key = checkLabelKey(this.identifier());
    if (this.atRequirementEnd()) return { key, operator: 'exists', values: [] };
    const operator = this.next();
    if (operator?.text === 'in' || operator?.text === 'notin') return { key, operator: operator.text, values: this.valueSet() };
    const mapped = operator ? BINARY_OPERATORS.get(operator.text) : undefined;
    if (!mapped) return this.fail(operator, 'in, notin, =, ==, !=, gt, lt');
    const value = this.atRequirementEnd() ? '' : (this.next()?.text ?? '');
    if (mapped === 'gt' || mapped === 'lt') {
      if (!/^-?\d+$/.test(value)) throw new BadRequest("unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer");
      return { key, operator: mapped, values: [value] };
    }
    return { key, operator: mapped, values: [checkLabelValue(value)] };
  }

  /** `(v1, v2)` after in/notin. */
  private valueSet(): string[] {
    const open = this.next();
    if (open?.text !== '(') this.fail(open, "'('");
    const values: string[] = [];
    for (;;) {
      const token = this.next();
      if (token?.type === 'identifier') values.push(checkLabelValue(token.text));
      else if (token?.text === ')') break;
      else if (token?.text !== ',') this.fail(token, "',' or ')'");
    }
    if (values.length === 0) {
      throw new BadRequest("unable to parse requirement: for 'in', 'notin' operators, values set can't be empty");
    }
    return values;
  }

  private identifier(): string {
    const token = this.next();
    if (token?.type !== 'identifier') return this.fail(token, 'identifier');
    return token.text;
  }

  private atRequirementEnd(): boolean {
    const token = this.peek();
    return token === undefined || (token.type === 'symbol' && token.text === ',');
  }

  private peek(): SelectorToken | undefined {
    return this.tokens[this.pos];
  }

  private next(): SelectorToken | undefined {
    return this.tokens[this.pos++];
  }

  private fail(found: SelectorToken | undefined, expected: string): never {
    throw new BadRequest(`unable to parse requirement: found '${found?.text ?? ''}', expected: ${expected}`);
  }
}

const BINARY_OPERATORS: ReadonlyMap<string, LabelOperator> = new Map([
  ['=', '='],
  ['==', '='],
  ['!=', '!='],
  ['>', 'gt'],
  ['<', 'lt'],
]);

function labelsMatch(requirements: readonly LabelRequirement[], labels: Readonly<Record<string, string>>): boolean {
  return requirements.every((req) => {
    const has = Object.hasOwn(labels, req.key);
    const value = labels[req.key];
    switch (req.operator) {
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case '=':
        return has && value === req.values[0];
      case '!=':
        return !has || value !== req.values[0];
      case 'in':
        return has && req.values.includes(value ?? '');
      case 'notin':
        return !has || !req.values.includes(value ?? '');
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(value ?? '')) return false;
        const diff = Number(value) - Number(req.values[0]);
        return req.operator === 'gt' ? diff > 0 : diff < 0;
      }
    }
  });
}

interface FieldRequirement {
  field: string;
  equal: boolean;
  value: string;
}

/** Field selectors each kind supports, besides metadata.name and metadata.namespace. */
const EXTRA_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Pod: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  Secret: ['type'],
  Namespace: ['status.phase'],
};

function parseFieldSelector(text: string, info: KindInfo): FieldRequirement[] {
  const supported = ['metadata.name', 'metadata.namespace', ...(EXTRA_FIELDS[info.kind] ?? [])];
  return text
    .split(',')
    .filter((term) => term.trim() !== '')
    .map((term) => {
      const match = /^\s*([^=!\s]+)\s*(==|!=|=)\s*(.*?)\s*$/.exec(term);
      if (!match) throw new BadRequest(`invalid selector: '${text}'; can't understand '${term}'`);
      const [, field = '', operator, value = ''] = match;
      if (!supported.includes(field)) throw new BadRequest(`field label not supported: ${field}`);
      return { field, equal: operator !== '!=', value };
    });
}

function fieldsMatch(requirements: readonly FieldRequirement[], stored: StoredObject): boolean {
  return requirements.every((req) => (fieldValue(stored, req.field) === req.value) === req.equal);
}

function fieldValue(stored: StoredObject, field: string): string {
  if (field === 'metadata.name') return stored.name;
  if (field === 'metadata.namespace') return stored.namespace;
  let value: unknown = stored.object;
  for (const part of field.split('.')) {
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  return field === 'spec.hostNetwork' ? 'false' : '';
}

// ---------------------------------------------------------------------------------------
// Continue tokens: base64url JSON, shaped like kube-apiserver's ({"v","rv","start"}) plus
// the offset into the snapshot so that resuming costs nothing
// ---------------------------------------------------------------------------------------

interface ContinueKey {
  v: 'meta.k8s.io/v1';
  rv: number;
  start: string;
  offset: number;
}

function encodeContinue(key: ContinueKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeContinue(token: string): ContinueKey {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new BadRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  const k = key as Partial<ContinueKey> | null;
  if (
    k === null ||
    typeof k !== 'object' ||
    k.v !== 'meta.k8s.io/v1' ||
    typeof k.rv !== 'number' ||
    typeof k.start !== 'string' ||
    typeof k.offset !== 'number'
  ) {
    throw new BadRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  return k as ContinueKey;
}

// ---------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------

interface Reply {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: Array<{ message: string }>;
  retryAfterSeconds?: number;
}

function statusReply(code: number, reason: string, message: string, details?: StatusDetails): Reply {
  // Field order as kube-apiserver writes it; details is omitted when empty, like Go's omitempty.
  const body = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
  return { status: code, contentType: 'application/json', body: JSON.stringify(body) };
}

function jsonReply(value: unknown): Reply {
  return { status: 200, contentType: 'application/json', body: JSON.stringify(value) };
}

/** What Go's http.NotFound writes, which is what kube-apiserver answers for unknown paths and groups. */
const PAGE_NOT_FOUND: Reply = { status: 404, contentType: 'text/plain; charset=utf-8', body: '404 page not found\n' };

const UNAUTHORIZED = statusReply(401, 'Unauthorized', 'Unauthorized');

const EXPIRED_MESSAGE =
  'The provided continue parameter is too old to display a consistent list result. ' +
  'You can start a new list without the continue parameter.';

/** `pods` for core, `deployments.apps` otherwise, as schema.GroupResource.String() prints it. */
function qualifiedResource(group: string, plural: string): string {
  return group === '' ? plural : `${plural}.${group}`;
}

/** Omits an empty group, as Go's omitempty does. */
function resourceDetails(group: string, plural: string, name?: string): StatusDetails {
  return { ...(name ? { name } : {}), ...(group ? { group } : {}), kind: plural };
}

function faultStatusReply(code: number, retryAfterSeconds: number | undefined): Reply {
  const retry = retryAfterSeconds === undefined ? {} : { retryAfterSeconds };
  const reply =
    code === 429
      ? statusReply(429, 'TooManyRequests', 'Too many requests, please try again later.', retry)
      : code === 503
        ? statusReply(503, 'ServiceUnavailable', 'The server is currently unable to handle the request', retry)
        : code === 500
          ? statusReply(500, 'InternalError', 'Internal error occurred: injected fault', {
              causes: [{ message: 'injected fault' }],
              ...retry,
            })
          : code === 504
            ? statusReply(504, 'Timeout', 'Timeout: request did not complete within the allotted timeout', retry)
            : statusReply(code, 'Unknown', `injected fault (HTTP ${code})`, retry);
  if (retryAfterSeconds !== undefined) reply.headers = { 'Retry-After': String(retryAfterSeconds) };
  return reply;
}

// ---------------------------------------------------------------------------------------
// Request paths, parsed the way k8s.io/apiserver's RequestInfoFactory does
// ---------------------------------------------------------------------------------------

interface ResourceRequest {
  group: string;
  version: string;
  plural: string;
  /** For authorization messages; for `/namespaces/{name}` it is the Namespace's own name. */
  namespace?: string;
  /** True when the path goes through /namespaces/{ns}/{plural}, i.e. targets a namespaced kind. */
  underNamespace: boolean;
  name?: string;
  /** Anything after the name (status, log, ...): not served here. */
  subresource?: string;
  verb: ReadVerb;
}

type ParsedPath =
  | { type: 'core-versions' }
  | { type: 'group-list' }
  | { type: 'group'; group: string }
  | { type: 'resource-list'; group: string; version: string }
  | { type: 'resource'; request: ResourceRequest }
  | { type: 'version' }
  | { type: 'health' }
  | { type: 'unknown' };

function parsePath(pathname: string, query: URLSearchParams): ParsedPath {
  let segments: string[];
  try {
    segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { type: 'unknown' };
  }
  const [root, ...rest] = segments;
  if (segments.length === 1 && root === 'version') return { type: 'version' };
  if (segments.length === 1 && (root === 'healthz' || root === 'livez' || root === 'readyz')) return { type: 'health' };
  if (root === 'api') {
    const [version, ...parts] = rest;
    if (version === undefined) return { type: 'core-versions' };
    return parseGroupVersionPath('', version, parts, query);
  }
  if (root === 'apis') {
    const [group, version, ...parts] = rest;
    if (group === undefined) return { type: 'group-list' };
    if (version === undefined) return { type: 'group', group };
    return parseGroupVersionPath(group, version, parts, query);
  }
  return { type: 'unknown' };
}

function parseGroupVersionPath(group: string, version: string, parts: string[], query: URLSearchParams): ParsedPath {
  if (parts.length === 0) return { type: 'resource-list', group, version };
  const underNamespace = parts[0] === 'namespaces' && parts.length >= 3;
  // RequestInfoFactory also takes a Namespace's own name (/namespaces/{name}) as the namespace.
  const namespace = parts[0] === 'namespaces' ? parts[1] : undefined;
  const [plural = '', name, ...subresources] = underNamespace ? parts.slice(2) : parts;
  const watch = query.get('watch');
  const verb: ReadVerb = name !== undefined ? 'get' : watch === 'true' || watch === '1' ? 'watch' : 'list';
  const request: ResourceRequest = { group, version, plural, verb, underNamespace };
  if (namespace !== undefined) request.namespace = namespace;
  if (name !== undefined) request.name = name;
  if (subresources.length > 0) request.subresource = subresources.join('/');
  return { type: 'resource', request };
}

// ---------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------

interface FaultEffects {
  delayMs: number;
  status?: { code: number; retryAfterSeconds: number | undefined };
  resetConnection: boolean;
  truncateBody: boolean;
  invalidJson: boolean;
  expireContinue: boolean;
  labels: string[];
}

class FaultBook {
  private readonly rules = new Set<FaultRule>();
  /** Uses per Fault object, so that `times` holds across calls of a hook returning the same object. */
  private readonly uses = new WeakMap<Fault, number>();

  constructor(private readonly hook: FaultHook | undefined) {}

  add(rule: FaultRule): FaultHandle {
    this.rules.add(rule);
    const uses = this.uses;
    const rules = this.rules;
    return {
      get hits() {
        return uses.get(rule) ?? 0;
      },
      remove: () => void rules.delete(rule),
    };
  }

  clear(): void {
    this.rules.clear();
  }

  /** Collects the faults that fire for this request and consumes one use of each. */
  take(req: FaultRequest): FaultEffects {
    const effects: FaultEffects = {
      delayMs: 0,
      resetConnection: false,
      truncateBody: false,
      invalidJson: false,
      expireContinue: false,
      labels: [],
    };
    const hooked = this.hook?.(req);
    const candidates: Fault[] = hooked === undefined ? [] : Array.isArray(hooked) ? [...hooked] : [hooked as Fault];
    for (const rule of this.rules) if (!rule.match || rule.match(req)) candidates.push(rule);
    for (const fault of candidates) {
      if (fault.expireContinue && req.continueToken === undefined) continue;
      const used = this.uses.get(fault) ?? 0;
      if (fault.times !== undefined && used >= fault.times) continue;
      this.uses.set(fault, used + 1);
      mergeFault(effects, fault);
    }
    return effects;
  }
}

function mergeFault(effects: FaultEffects, fault: Fault): void {
  if (fault.delayMs) {
    effects.delayMs += fault.delayMs;
    effects.labels.push('delay');
  }
  if (fault.status !== undefined && !effects.status) {
    effects.status = { code: fault.status, retryAfterSeconds: fault.retryAfterSeconds };
    effects.labels.push(`status:${fault.status}`);
  }
  for (const flag of ['resetConnection', 'truncateBody', 'invalidJson', 'expireContinue'] as const) {
    if (fault[flag] && !effects[flag]) {
      effects[flag] = true;
      effects.labels.push(flag);
    }
  }
}

// ---------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------

const SERVER_ID = 'tunnelmesh-loopback-apiserver';

class LoopbackApiServer implements ApiServer {
  readonly caPem: string;
  readonly token: string;
  readonly requests: RequestLogEntry[] = [];
  url = '';
  port = 0;

  private readonly userName: string;
  private readonly gitVersion: string;
  private readonly kinds = new KindRegistry();
  private readonly store: ObjectStore;
  private readonly faults: FaultBook;
  private forbidden: readonly ForbiddenRule[];
  private latencyMs: number;
  private readonly podProxies = new Map<string, PodProxyAnswer>();
  private readonly server: https.Server;
  /** Aborts artificial delays when the server closes, so close() never waits on a timer. */
  private readonly closing = new AbortController();

  constructor(options: ApiServerOptions) {
    // Every delayed request waits on it: many at once is normal here, not a leak.
    setMaxListeners(0, this.closing.signal);
    const pki = testPki();
    this.caPem = pki.caPem;
    this.token = options.token ?? DEFAULT_TOKEN;
    this.userName = options.userName ?? DEFAULT_USER;
    this.gitVersion = options.gitVersion ?? 'v1.30.2';
    this.forbidden = options.forbidden ?? [];
    this.latencyMs = options.latencyMs ?? 0;
    for (const [key, answer] of Object.entries(options.podProxy ?? {})) this.podProxies.set(key, answer);
    this.faults = new FaultBook(options.fault);
    for (const rule of options.faults ?? []) this.faults.add(rule);
    for (const info of [...KINDS, ...(options.kinds ?? [])]) this.kinds.register(info);
    this.kinds.setAbsent(options.absentGroups ?? []);
    for (const [group, versions] of Object.entries(options.groupVersions ?? {})) this.kinds.setVersions(group, versions);
    this.store = new ObjectStore(Math.max(1, options.retainedSnapshots ?? 64));
    if (options.objects) this.putObjects(options.objects);

    this.server = https.createServer(
      {
        key: pki.server.keyPem,
        cert: pki.server.certPem,
        ca: pki.caPem,
        // Ask for a client certificate but let token users in too; handle() decides.
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => void this.handle(req, res),
    );
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        this.url = `https://127.0.0.1:${this.port}`;
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.closing.abort();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // --- mutators -------------------------------------------------------------------------

  putObjects(objects: readonly ApiObject[]): void {
    this.store.commit(objects.map((object) => ({ put: this.store.prepare(this.kindOf(object), object) })));
  }

  replaceObjects(objects: readonly ApiObject[]): void {
    this.store.commit(
      objects.map((object) => ({ put: this.store.prepare(this.kindOf(object), object) })),
      true,
    );
  }

  deleteObject(ref: ObjectRef): boolean {
    const info = this.kindOf(ref);
    const key = objectKey(ref.metadata.namespace ?? '', ref.metadata.name);
    if (!collectionOf(this.store.latest, info).byKey.has(key)) return false;
    this.store.commit([{ remove: { info, key } }]);
    return true;
  }

  registerKind(info: KindInfo): void {
    this.kinds.register(info);
  }

  setForbidden(rules: readonly ForbiddenRule[]): void {
    this.forbidden = rules;
  }

  setAbsentGroups(groups: readonly string[]): void {
    this.kinds.setAbsent(groups);
  }

  setGroupVersions(group: string, versions: readonly string[] | undefined): void {
    this.kinds.setVersions(group, versions);
  }

  addFault(rule: FaultRule): FaultHandle {
    return this.faults.add(rule);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  setPodProxy(key: string, answer: PodProxyAnswer | undefined): void {
    if (answer) this.podProxies.set(key, answer);
    else this.podProxies.delete(key);
  }

  expireContinueTokens(): void {
    this.store.compact();
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  private kindOf(ref: { apiVersion: string; kind: string }): KindInfo {
    const info = this.kinds.byKind(groupOfApiVersion(ref.apiVersion), ref.kind);
    if (!info) {
      throw new Error(
        `loopback apiserver: unknown kind ${ref.apiVersion}/${ref.kind}; pass its KindInfo in options.kinds or registerKind()`,
      );
    }
    return info;
  }

  // --- request handling -----------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req);
    const entry = this.logRequest(req, url);
    req.resume(); // drain any body: nothing here reads one
    try {
      const parsed = parsePath(url.pathname, url.searchParams);
      const effects = this.faults.take(this.faultRequest(req, url, parsed));
      entry.faults = effects.labels;
      const delay = this.latencyMs + effects.delayMs;
      if (delay > 0) await sleep(delay, undefined, { signal: this.closing.signal });
      const reply = effects.status
        ? faultStatusReply(effects.status.code, effects.status.retryAfterSeconds)
        : this.respond(req, url, parsed, effects, entry);
      this.write(res, entry, reply, effects);
    } catch (err) {
      if (this.closing.signal.aborted) {
        res.destroy();
        return;
      }
      const reply =
        err instanceof BadRequest
          ? statusReply(400, 'BadRequest', err.message)
          : statusReply(500, 'InternalError', `Internal error occurred: ${String(err)}`);
      if (!res.headersSent) this.write(res, entry, reply, undefined);
      else res.destroy();
    }
  }

  private logRequest(req: IncomingMessage, url: URL): RequestLogEntry {
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET',
      path: safeDecode(url.pathname),
      query: Object.fromEntries(url.searchParams),
      url: req.url ?? '/',
      status: 0,
      userAgent: req.headers['user-agent'],
      time: Date.now(),
      user: undefined,
      faults: [],
    };
    this.requests.push(entry);
    return entry;
  }

  private faultRequest(req: IncomingMessage, url: URL, parsed: ParsedPath): FaultRequest {
    const faultReq: FaultRequest = { method: req.method ?? 'GET', path: safeDecode(url.pathname), query: url.searchParams };
    const continueToken = url.searchParams.get('continue');
    if (continueToken) faultReq.continueToken = continueToken;
    if (parsed.type === 'resource') {
      const { group, version, plural, namespace, name, verb } = parsed.request;
      faultReq.resource = { group, version, plural, verb, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) };
      const kind = this.kinds.byPlural(group, plural);
      if (kind) faultReq.kind = kind;
    }
    return faultReq;
  }

  /** The reply a healthy kube-apiserver would give: authentication, authorization, then routing. */
  private respond(req: IncomingMessage, url: URL, parsed: ParsedPath, effects: FaultEffects, entry: RequestLogEntry): Reply {
    const user = this.authenticate(req);
    entry.user = user;
    if (user === undefined) return UNAUTHORIZED;
    if (req.method !== 'GET') {
      return statusReply(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
    switch (parsed.type) {
      case 'version':
        return jsonReply(this.versionInfo());
      case 'health':
        return { status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok' };
      case 'core-versions':
        return jsonReply({
          kind: 'APIVersions',
          versions: ['v1'],
          serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }],
        });
      case 'group-list':
        return jsonReply({ kind: 'APIGroupList', apiVersion: 'v1', groups: this.kinds.installedGroups().map((g) => this.apiGroup(g)) });
      case 'group':
        return this.kinds.servedVersions(parsed.group).length > 0
          ? jsonReply({ kind: 'APIGroup', apiVersion: 'v1', ...this.apiGroup(parsed.group) })
          : PAGE_NOT_FOUND;
      case 'resource-list':
        return this.resourceList(parsed.group, parsed.version);
      case 'resource':
        return this.resourceReply(parsed.request, url.searchParams, user, effects);
      case 'unknown':
        return PAGE_NOT_FOUND;
    }
  }

  private authenticate(req: IncomingMessage): string | undefined {
    const authorization = req.headers.authorization;
    if (authorization === `Bearer ${this.token}`) return this.userName;
    const socket = req.socket as TLSSocket;
    if (socket.authorized) {
      const commonName = socket.getPeerCertificate().subject?.CN;
      const cn = Array.isArray(commonName) ? commonName[0] : commonName;
      if (cn) return cn;
    }
    return undefined;
  }

  private versionInfo(): Record<string, string> {
    const [, major = '1', minor = '30'] = /^v(\d+)\.(\d+)/.exec(this.gitVersion) ?? [];
    return {
      major,
      minor,
      gitVersion: this.gitVersion,
      gitCommit: '0000000000000000000000000000000000000000',
      gitTreeState: 'clean',
      buildDate: CREATION_TIMESTAMP,
      goVersion: 'go1.22.4',
      compiler: 'gc',
      platform: 'linux/amd64',
    };
  }

  private apiGroup(group: string): Record<string, unknown> {
    const versions = this.kinds.servedVersions(group).map((version) => ({ groupVersion: `${group}/${version}`, version }));
    return { name: group, versions, preferredVersion: versions[0] };
  }

  private resourceList(group: string, version: string): Reply {
    if (!this.kinds.servedVersions(group).includes(version)) return PAGE_NOT_FOUND;
    const resources = this.kinds.kindsServedAt(group, version).map((info) => ({
      name: info.plural,
      singularName: info.kind.toLowerCase(),
      namespaced: info.namespaced,
      kind: info.kind,
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    }));
    return jsonReply({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources });
  }

  private resourceReply(request: ResourceRequest, query: URLSearchParams, user: string, effects: FaultEffects): Reply {
    if (request.group === '' && request.plural === 'pods' && request.name !== undefined && request.subresource?.split('/')[0] === 'proxy') {
      return this.podProxyReply(request, user);
    }
    const denied = this.forbiddenReply(request, user);
    if (denied) return denied;
    const info = this.kinds.byPlural(request.group, request.plural);
    if (!info || !this.kinds.isServed(info, request.version) || request.subresource !== undefined) return PAGE_NOT_FOUND;
    if (request.underNamespace && !info.namespaced) return PAGE_NOT_FOUND;
    if (request.verb === 'watch') {
      return statusReply(405, 'MethodNotAllowed', 'watch is not supported by the tunnelmesh loopback API server');
    }
    const namespace = request.underNamespace ? request.namespace : undefined;
    if (request.name !== undefined) {
      // Namespaced objects are only reachable under /namespaces/{ns}/.
      if (info.namespaced && namespace === undefined) return PAGE_NOT_FOUND;
      return this.getReply(info, request, namespace ?? '');
    }
    return this.listReply(info, request.version, namespace, query, effects);
  }

  /**
   * The pod proxy subresource, as kube-apiserver serves it: RBAC on `pods/proxy` (verb from the
   * method), 404 for a pod that does not exist, then whatever the pod's port answers.
   */
  private podProxyReply(request: ResourceRequest, user: string): Reply {
    const ns = request.namespace ?? '';
    const denied = this.forbidden.some((rule) => rule.kind === 'pods/proxy' && (rule.namespace === undefined || rule.namespace === ns) && (!rule.verbs || rule.verbs.includes(request.verb)));
    if (denied) {
      const reason = `User "${user}" cannot ${request.verb} resource "pods/proxy" in API group "" in the namespace "${ns}"`;
      return statusReply(403, 'Forbidden', `pods "${request.name}" is forbidden: ${reason}`, { name: request.name ?? '', kind: 'pods' });
    }
    // NAME, NAME:PORT or SCHEME:NAME:PORT (pkg/registry/core/pod ResourceLocation).
    const parts = (request.name ?? '').split(':');
    const [name, port] = parts.length === 3 ? [parts[1] ?? '', parts[2] ?? ''] : [parts[0] ?? '', parts[1] ?? ''];
    const pod = collectionOf(this.store.latest, this.kinds.byKind('', 'Pod') as KindInfo).byKey.get(objectKey(ns, name));
    if (!pod) return statusReply(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
    const answer = this.podProxies.get(`${ns}/${name}:${port}`);
    if (!answer) {
      const ip = (pod.object as { status?: { podIP?: string } }).status?.podIP ?? '10.0.0.1';
      return statusReply(503, 'ServiceUnavailable', `error trying to reach service: dial tcp ${ip}:${port}: connect: connection refused`);
    }
    if ('body' in answer) return jsonReply(answer.body);
    if ('rawBody' in answer) return { status: 200, contentType: answer.contentType ?? 'application/json', body: answer.rawBody };
    return statusReply(answer.status, answer.status === 503 ? 'ServiceUnavailable' : answer.status === 404 ? 'NotFound' : 'Unknown', answer.message);
  }

  private forbiddenReply(request: ResourceRequest, user: string): Reply | undefined {
    const info = this.kinds.byPlural(request.group, request.plural);
    const denied = this.forbidden.some((rule) => ruleDenies(rule, request, info));
    if (!denied) return undefined;
    const where = request.namespace ? `in the namespace "${request.namespace}"` : 'at the cluster scope';
    const reason = `User "${user}" cannot ${request.verb} resource "${request.plural}" in API group "${request.group}" ${where}`;
    const subject = qualifiedResource(request.group, request.plural);
    const message = request.name ? `${subject} "${request.name}" is forbidden: ${reason}` : `${subject} is forbidden: ${reason}`;
    return statusReply(403, 'Forbidden', message, resourceDetails(request.group, request.plural, request.name));
  }

  private getReply(info: KindInfo, request: ResourceRequest, namespace: string): Reply {
    const name = request.name ?? '';
    const stored = collectionOf(this.store.latest, info).byKey.get(objectKey(namespace, name));
    if (!stored) {
      const message = `${qualifiedResource(info.group, info.plural)} "${name}" not found`;
      return statusReply(404, 'NotFound', message, resourceDetails(info.group, info.plural, name));
    }
    return jsonReply(stored.asObject(request.version));
  }

  private listReply(
    info: KindInfo,
    version: string,
    namespace: string | undefined,
    query: URLSearchParams,
    effects: FaultEffects,
  ): Reply {
    const labelSelector = parseLabelSelector(query.get('labelSelector') ?? '');
    const fieldSelector = parseFieldSelector(query.get('fieldSelector') ?? '', info);
    const limit = parseLimit(query.get('limit'));
    const continueToken = query.get('continue') || undefined;

    let snapshot = this.store.latest;
    let offset = 0;
    if (continueToken !== undefined) {
      if (query.get('resourceVersion')) throw new BadRequest('specifying resource version is not allowed when using continue');
      if (effects.expireContinue) return statusReply(410, 'Expired', EXPIRED_MESSAGE);
      const key = decodeContinue(continueToken);
      const past = this.store.at(key.rv);
      if (!past) return statusReply(410, 'Expired', EXPIRED_MESSAGE);
      snapshot = past;
      offset = key.offset;
      if (collectionOf(snapshot, info).scope(namespace)[offset]?.key !== key.start) {
        throw new BadRequest('continue key is not valid: it does not belong to this list');
      }
    }

    const scope = collectionOf(snapshot, info).scope(namespace);
    const page: string[] = [];
    let index = offset;
    for (; index < scope.length && (limit === undefined || page.length < limit); index += 1) {
      const stored = scope[index];
      if (stored && labelsMatch(labelSelector, stored.labels) && fieldsMatch(fieldSelector, stored)) {
        page.push(stored.listItemJson(version));
      }
    }

    // Like etcd-backed lists: a continue token whenever keys remain, even if none of them
    // match the selectors (so a final page may be empty); the count only without selectors.
    const metadata: Record<string, unknown> = { resourceVersion: String(snapshot.resourceVersion) };
    const next = scope[index];
    if (next) {
      metadata.continue = encodeContinue({ v: 'meta.k8s.io/v1', rv: snapshot.resourceVersion, start: next.key, offset: index });
      if (labelSelector.length === 0 && fieldSelector.length === 0) metadata.remainingItemCount = scope.length - index;
    }
    const head = JSON.stringify({ kind: `${info.kind}List`, apiVersion: apiVersionOf(info, version), metadata });
    // Items are spliced in as cached JSON so that 10k-object lists stay cheap.
    const body = `${head.slice(0, -1)},"items":[${page.join(',')}]}`;
    return { status: 200, contentType: 'application/json', body };
  }

  /** Writes a reply, mangled by whatever faults fired. */
  private write(res: ServerResponse, entry: RequestLogEntry, reply: Reply, effects: FaultEffects | undefined): void {
    let body = Buffer.from(reply.body);
    if (effects?.invalidJson) body = Buffer.from(`{"kind":"${SERVER_ID}", this is not JSON`);
    const headers: Record<string, string> = {
      'Content-Type': reply.contentType,
      'Cache-Control': 'no-cache, private',
      'Audit-Id': randomUUID(),
      ...(reply.contentType.startsWith('text/plain') ? { 'X-Content-Type-Options': 'nosniff' } : {}),
      ...reply.headers,
    };
    entry.status = reply.status;
    const half = body.subarray(0, Math.floor(body.length / 2));
    if (effects?.resetConnection) {
      res.writeHead(reply.status, { ...headers, 'Content-Length': String(body.length) });
      res.write(half, () => resetSocket(res.socket));
      return;
    }
    if (effects?.truncateBody) {
      // No Content-Length: the response ends cleanly, its JSON cut in the middle.
      res.writeHead(reply.status, headers);
      res.end(half);
      return;
    }
    res.writeHead(reply.status, { ...headers, 'Content-Length': String(body.length) });
    res.end(body);
  }
}

function ruleDenies(rule: ForbiddenRule, request: ResourceRequest, info: KindInfo | undefined): boolean {
  const names = info ? [info.kind, info.plural] : [request.plural];
  if (!names.includes(rule.kind)) return false;
  if (rule.group !== undefined && rule.group !== request.group) return false;
  if (rule.verbs && !rule.verbs.includes(request.verb)) return false;
  if (rule.namespace === undefined) return true;
  if (request.namespace === rule.namespace) return true;
  // A cluster-wide list of a namespaced kind includes the forbidden namespace.
  return request.namespace === undefined && request.name === undefined && (info?.namespaced ?? true);
}

/** Sends a TCP RST. A TLS socket's handle cannot; the TCP socket it wraps (`_parent`) can. */
function resetSocket(socket: Socket | null): void {
  const transport = (socket as { _parent?: unknown } | null)?._parent;
  if (transport instanceof Socket) transport.resetAndDestroy();
  socket?.destroy();
}

function parseLimit(text: string | null): number | undefined {
  if (text === null || text === '') return undefined;
  if (!/^-?\d+$/.test(text)) throw new BadRequest(`unable to parse quantity "limit": strconv.ParseInt: parsing "${text}": invalid syntax`);
  const limit = Number(text);
  return limit > 0 ? limit : undefined;
}

function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? '/';
  // Concatenated rather than resolved, so that a path starting with `//` stays a path;
  // anything that is not origin-form (`*`, absolute URLs) lands on a path nothing serves.
  return target.startsWith('/') && URL.canParse(`https://apiserver.invalid${target}`)
    ? new URL(`https://apiserver.invalid${target}`)
    : new URL('https://apiserver.invalid/-/unsupported-request-target');
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
