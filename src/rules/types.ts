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
  /** A small situation that makes the rule fire (docs and `tunnelmesh rules CODE` run it). */
  example?: RuleExample;
}

export interface RuleExample {
  /** What the manifests show, in one or two sentences. */
  description: string;
  /** Multi-document YAML, as `helm template` would render it. */
  manifests: string;
}

export interface Fix {
  title: string;
  /** Ready-to-apply YAML (an object to create or edit, or a patch, said in its first comment). */
  yaml: string;
  /** The object the fix creates or changes. */
  target?: ObjectRef;
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
