// Kubeconfig mistakes in words a person understands. @kubernetes/client-node reads an empty
// file as "Cannot read properties of undefined (reading 'clusters')"; a kubeconfig without a
// current-context gives "No active cluster!". And a 401 says what to do next: which user's
// credentials were refused and how that kind of credential is renewed.

import { readFileSync } from 'node:fs';
import jsyaml from 'js-yaml';
import { UsageError } from '../errors.js';
import { loadYaml } from '../core/limits.js';

/**
 * Throws a UsageError naming the file when it cannot be a kubeconfig; `where` says where its
 * name came from. One file of a KUBECONFIG list may lack contexts (the others bring them).
 */
export function checkKubeconfigFile(file: string, where = 'kubeconfig', requireContexts = true): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${where} ${file}: no such file`);
    throw new UsageError(`${where} ${file}: cannot read it (${code === 'EACCES' ? 'permission denied' : (code ?? 'error')})`);
  }
  const make = 'kubectl config view --raw --minify > FILE writes one for the current context';
  if (text.trim() === '') throw new UsageError(`${where} ${file} is empty: it needs clusters, users and contexts (${make})`);
  let doc: unknown;
  try {
    doc = loadYaml(text, file);
  } catch (err) {
    // The reason only: js-yaml's message quotes the lines around the mistake, a token among them.
    if (err instanceof jsyaml.YAMLException) throw new UsageError(`cannot read ${where} ${file}:${(err.mark?.line ?? 0) + 1}: invalid YAML: ${err.reason}`);
    throw new UsageError(`${where} ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new UsageError(`${where} ${file} is not a kubeconfig (a YAML mapping with clusters, users and contexts; ${make})`);
  }
  const config = doc as { kind?: unknown; clusters?: unknown; contexts?: unknown; users?: unknown };
  if (config.kind !== undefined && config.kind !== 'Config') {
    throw new UsageError(`${where} ${file} holds a ${String(config.kind)}, not a kubeconfig (kind: Config)`);
  }
  for (const key of ['clusters', 'contexts', 'users'] as const) {
    const value = config[key];
    if (value !== undefined && value !== null && !Array.isArray(value)) throw new UsageError(`${where} ${file}: ${key} must be a list`);
  }
  if (requireContexts && (!Array.isArray(config.contexts) || config.contexts.length === 0)) {
    throw new UsageError(`${where} ${file} has no contexts: add one (kubectl config set-context NAME --cluster … --user …) or use the kubeconfig your cluster gave you`);
  }
}

/** What a kubeconfig user authenticates with (the fields client-node reads). */
export interface KubeUser {
  name: string;
  token?: string;
  exec?: { command?: string } | unknown;
  authProvider?: { name?: string } | unknown;
  certData?: string;
  certFile?: string;
  username?: string;
}

/** Known credential plugins and the command that logs in again. */
const PLUGIN_LOGIN: Array<[RegExp, string]> = [
  [/(^|\/)aws(-iam-authenticator)?$/, 'aws sso login (or aws configure), then retry'],
  [/gke-gcloud-auth-plugin|gcloud/, 'gcloud auth login'],
  [/kubelogin/, 'az login, or kubelogin convert-kubeconfig'],
  [/oidc-login|kubectl-oidc_login/, 'kubectl oidc-login clean, then retry (a browser login follows)'],
  [/doctl/, 'doctl auth init'],
  [/oci/, 'oci session authenticate'],
];

/** The next step after a 401 for this user (which credential was refused and how to renew it). */
export function loginHint(user: KubeUser | null | undefined, context: string): string {
  const check = `check with: kubectl --context ${context} auth whoami`;
  if (!user) return `the context has no user: add one to the kubeconfig (${check})`;
  const who = `user "${user.name}"`;
  const exec = user.exec as { command?: unknown } | undefined;
  if (exec) {
    const command = typeof exec.command === 'string' ? exec.command : 'the credential plugin';
    const login = PLUGIN_LOGIN.find(([re]) => re.test(command))?.[1];
    return `the credentials that ${command} gave ${who} were refused: log in again${login ? ` (${login})` : ' with that plugin'}; ${check}`;
  }
  const provider = user.authProvider as { name?: unknown } | undefined;
  if (provider) {
    const name = typeof provider.name === 'string' ? provider.name : 'auth-provider';
    return `the ${name} login of ${who} was refused (expired or revoked): log in again with your identity provider to refresh it; ${check}`;
  }
  if (user.token) return `the token of ${who} was refused (expired or revoked): get a new one and set it with kubectl config set-credentials ${user.name} --token=…; ${check}`;
  if (user.certData || user.certFile) {
    return `the client certificate of ${who} was refused (expired, or not signed by this cluster's CA): get a renewed kubeconfig from the cluster's admin or provider; ${check}`;
  }
  if (user.username) return `the username and password of ${who} were refused: set the right ones with kubectl config set-credentials ${user.name} --username=… --password=…; ${check}`;
  return `${who} has no credentials in the kubeconfig, and the API server refuses anonymous requests: add a token, a client certificate or a credential plugin to it; ${check}`;
}
