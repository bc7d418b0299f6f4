// A rule is one module: metadata (one catalogue for codes, docs and output) plus a pure
// check over the model that returns findings with their evidence and fixes.

import type { KnownKind, KObject, ObjectRef } from '../core/k8s.js';
import type { MeshModel } from '../model/model.js';

export type Severity = 'error' | 'warning' | 'info';

export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];

export interface RuleMeta {
  code: string;
  name: string;
  severity: Severity;
  /** One line: when it fires. */
  summary: string;
  /** Why it breaks, what a user sees. */
  description: string;
  /** How to fix it, in words (the findings carry the YAML). */
  howToFix: string;
  /** The kinds the check reads (src/rules/inputs.ts has the usual groups); the rule tester proves them. */
  inputs: readonly KnownKind[];
  /** What else it reads that is not a Kubernetes kind (Envoy config dumps), for the docs. */
  extraInputs?: readonly string[];
  /** A small situation that makes the rule fire (docs and `tunnelmesh rules CODE` run it). */
  example?: RuleExample;
}

export interface RuleExample {
  /** What the manifests show, in one or two sentences. */
  description: string;
  /** Multi-document YAML, as `helm template` would render it. */
  manifests: string;
}

/**
 * How kubectl takes a fix's YAML (its first comment says the same command):
 * - `apply`: complete objects, created or replacing their namesakes (`kubectl apply -f`);
 * - `server-side`: partial objects merged into the live ones (`kubectl apply --server-side`): maps merge,
 *   lists of built-in kinds keyed by name or port merge item by item, other lists are replaced;
 * - `merge-patch`: a JSON merge patch of one object (`kubectl patch --type merge`): maps merge, null
 *   deletes, lists are replaced whole;
 * - `replace`: a complete object deleted and created again (`kubectl replace --force`), for a Pod;
 * - `manual`: text that says what to change where no object can be applied (the object that writes
 *   the setting is not modelled): never applied by tunnelmesh.
 */
export type ApplyMode = 'apply' | 'server-side' | 'merge-patch' | 'replace' | 'manual';

/** A step a fix needs besides applying its YAML; `command` is what the fix text tells the user to run. */
export type FixStep =
  | { kind: 'delete'; target: ObjectRef; command: string }
  /** Remove one field (a JSON pointer path, e.g. metadata.annotations.<key>): server-side apply never removes another manager's field. */
  | { kind: 'remove-field'; target: ObjectRef; path: string[]; command: string }
  /** Restart the pods so they read what was changed (cloudflared reads its config at start). */
  | { kind: 'restart'; target: ObjectRef; command: string };

export interface Fix {
  title: string;
  /** Ready-to-apply YAML (objects to create or edit, or a patch, said in its first comment); several documents for a bundled fix. */
  yaml: string;
  /** The object the fix creates or changes (the first document's). */
  target?: ObjectRef;
  /** How the YAML is applied; undefined is `apply`. */
  apply?: ApplyMode;
  /** Steps after applying the YAML (deleting what the fix replaces, removing a key, restarting). */
  steps?: FixStep[];
  /**
   * Why a `manual` fix is text: no single change works (it says what does), the object that writes
   * the setting is not modelled, or the value needed is the author's to choose (a host with a space in it).
   */
  manualReason?: 'no-single-change' | 'writer-not-modelled' | 'needs-a-choice';
  /** The fix deliberately changes which origin a tunnel hostname reaches (a rule pointed at the right Service, or removed). */
  reroutes?: boolean;
}

/** What a rule reports; the runner adds code, name and severity from the metadata. */
export interface FindingDraft {
  resource: ObjectRef;
  port?: number;
  message: string;
  symptom?: string;
  evidence: string[];
  fixes: Fix[];
  /** A severity other than the rule's default (e.g. TM304 for gRPC). */
  severity?: Severity;
  /** Namespaces the finding concerns besides the resource's (for -n). */
  namespaces?: string[];
  /** The objects involved, primary first (source positions, suppression annotations). */
  objects?: KObject[];
  /** The tunnel rules (`ruleKey`) the finding is about: explain-protocol attaches findings to backends by them. */
  edges?: string[];
  /**
   * The field at fault, as a path in `object` (default: the resource), e.g.
   * `['spec', 'template', 'metadata', 'annotations', 'traffic.istio.io/excludeInboundPorts']`:
   * SARIF and code quality point at its line (Istio's analyzers' util.ErrorLine).
   */
  field?: FieldRef;
}

export interface FieldRef {
  path: Array<string | number>;
  object?: ObjectRef;
}

export interface Finding extends FindingDraft {
  code: string;
  name: string;
  severity: Severity;
}

export interface RuleContext {
  model: MeshModel;
}

export interface Rule {
  meta: RuleMeta;
  check(ctx: RuleContext): FindingDraft[];
}
