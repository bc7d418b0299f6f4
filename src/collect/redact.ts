// Token and credential material out of objects before they leave the process (`snapshot`).
// Nothing tunnelmesh judges depends on a secret value: `--token` and TUNNEL_TOKEN stay visible
// by name (remotely managed tunnels are told by them), only their values go.

import type { KObject } from '../core/k8s.js';

export const REDACTED = '<redacted by tunnelmesh>';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** cloudflared flags whose value is a secret (`--token X`, `--token=X`). */
const SECRET_FLAGS = ['--token', '--credentials-contents'];
/** Env names that carry secrets: cloudflared's own, and the usual suspects. */
const SECRET_ENV = /^(TUNNEL_TOKEN|TUNNEL_CRED_CONTENTS)$|TOKEN|SECRET|PASSW(OR)?D|CREDENTIAL|API_?KEY|PRIVATE_?KEY/i;
/** cloudflared config keys (config.yaml can set any flag) and credentials-file JSON keys. */
const SECRET_CONFIG_LINE = /^(\s*-?\s*["']?(?:token|credentials-contents|TunnelSecret|tunnel-secret)["']?\s*:\s*)(\S.*)$/gim;
/** Base64 JSON (`{"...`): cloudflared tunnel tokens (`{"a":…,"t":…,"s":…}`) and JWTs. */
const BASE64_JSON = /eyJ[A-Za-z0-9_\-+/=.]{16,}/g;
const FLAG_IN_TEXT = new RegExp(`(${SECRET_FLAGS.join('|')})(=|\\s+)("[^"]*"|'[^']*'|\\S+)`, 'g');

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
      if (typeof previous === 'string' && SECRET_FLAGS.includes(previous)) return REDACTED;
      return redactFlagsInText(arg);
    });
  }
  const env = c.env;
  if (Array.isArray(env)) {
    for (const e of env) {
      if (isPlain(e) && typeof e.name === 'string' && typeof e.value === 'string' && SECRET_ENV.test(e.name)) e.value = REDACTED;
    }
  }
}

/** `--token=X` in an argument, or `--token X` inside a shell command line. */
function redactFlagsInText(text: string): string {
  return text.replace(FLAG_IN_TEXT, (_m, flag: string, sep: string) => `${flag}${sep}${REDACTED}`);
}

function redactConfigMap(cm: Record<string, unknown>): void {
  delete cm.binaryData; // never judged; may hold anything
  const data = cm.data;
  if (!isPlain(data)) return;
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== 'string') continue;
    // A cloudflared credentials file (credentials-file:) copied into a ConfigMap: nothing in it is judged.
    if (/"TunnelSecret"\s*:/.test(value) || /\.json$/i.test(key) && /"AccountTag"/.test(value)) {
      data[key] = REDACTED;
      continue;
    }
    data[key] = redactFlagsInText(value.replace(SECRET_CONFIG_LINE, (_m, head: string) => `${head}"${REDACTED}"`));
  }
}

/** Last line of defence: any base64 JSON blob (tunnel token, JWT) anywhere in the object. */
function scrubStrings(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(BASE64_JSON, REDACTED);
  if (Array.isArray(value)) return value.map(scrubStrings);
  if (isPlain(value)) {
    for (const [k, v] of Object.entries(value)) value[k] = scrubStrings(v);
    return value;
  }
  return value;
}
