// Token and credential material out of objects before they leave the process (`snapshot`).
// Nothing tunnelmesh judges depends on a secret value: `--token` and TUNNEL_TOKEN stay visible
// by name (remotely managed tunnels are told by them), only their values go. What a name or a
// shape says is secret is decided once, in core/redact.ts, for every output alike: here the
// object's structure adds what text alone cannot tell (an env var's name beside its value, a
// flag in one argument and its value in the next).

import type { KObject } from '../core/k8s.js';
import { isSecretName, REDACTED, redactText } from '../core/redact.js';

export { REDACTED };

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A copy of the object fit to share: tokens, credentials and server bookkeeping removed. */
export function redactObject<T extends KObject>(o: T): T {
  const copy = structuredClone(o);
  const meta = copy.metadata as unknown as Record<string, unknown>;
  delete meta.managedFields;
  const annotations = meta.annotations as Record<string, string> | undefined;
  if (annotations) delete annotations[LAST_APPLIED];
  for (const spec of podSpecs(copy)) redactPodSpec(spec);
  if (copy.kind === 'ConfigMap') redactConfigMap(copy as unknown as Record<string, unknown>);
  return scrubStrings(copy) as T;
}

function podSpecs(o: KObject): Record<string, unknown>[] {
  const spec = o.spec;
  if (!isPlain(spec)) return [];
  if (o.kind === 'Pod') return [spec];
  const out: Record<string, unknown>[] = [];
  const template = spec.template;
  if (isPlain(template) && isPlain(template.spec)) out.push(template.spec);
  const job = spec.jobTemplate;
  if (isPlain(job) && isPlain(job.spec) && isPlain(job.spec.template) && isPlain(job.spec.template.spec)) out.push(job.spec.template.spec);
  return out;
}

function redactPodSpec(spec: Record<string, unknown>): void {
  for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
    const list = spec[field];
    if (!Array.isArray(list)) continue;
    for (const c of list) if (isPlain(c)) redactContainer(c);
  }
}

function redactContainer(c: Record<string, unknown>): void {
  for (const field of ['command', 'args']) {
    const list = c[field];
    if (!Array.isArray(list)) continue;
    c[field] = list.map((arg, i) => {
      if (typeof arg !== 'string') return arg;
      const previous = list[i - 1];
      // `--token X` / `-token X` as two arguments; within one argument (`--token=X`, `sh -c "…"`) the text rules apply.
      if (typeof previous === 'string' && /^--?[A-Za-z][A-Za-z0-9-]*$/.test(previous) && isSecretName(previous) && !arg.startsWith('-')) return REDACTED;
      return arg;
    });
  }
  const env = c.env;
  if (Array.isArray(env)) {
    for (const e of env) {
      if (isPlain(e) && typeof e.name === 'string' && typeof e.value === 'string' && e.value !== '' && isSecretName(e.name)) e.value = REDACTED;
    }
  }
}

function redactConfigMap(cm: Record<string, unknown>): void {
  delete cm.binaryData; // never judged; may hold anything
  const data = cm.data;
  if (!isPlain(data)) return;
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== 'string') continue;
    // A cloudflared credentials file (credentials-file:) copied into a ConfigMap: nothing in it is judged.
    if (/"TunnelSecret"\s*:/.test(value) || (/\.json$/i.test(key) && /"AccountTag"/.test(value)) || isSecretName(key)) data[key] = REDACTED;
  }
}

/** Every string of the object through the one text redaction (configs in ConfigMaps, shell command lines, URLs with passwords). */
function scrubStrings(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(scrubStrings);
  if (isPlain(value)) {
    for (const [k, v] of Object.entries(value)) value[k] = scrubStrings(v);
    return value;
  }
  return value;
}
