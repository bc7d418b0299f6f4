// Kubeconfig files for the loopback API server, written to a temp dir that is removed when
// the test process exits (they may hold a client key).

import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import jsyaml from 'js-yaml';
import { testPki, untrustedClientCert } from './certs.js';
import { lazyTempDir } from './tmp.js';

/** How a kubeconfig user authenticates. */
export type KubeconfigAuth =
  | 'token' // the server's bearer token
  | 'wrong-token' // a bearer token the server rejects
  | 'client-cert' // a client certificate signed by the server's CA
  | 'untrusted-client-cert' // a client certificate signed by some other CA
  | 'none'; // no credentials at all

export interface KubeconfigContext {
  name: string;
  namespace?: string;
  /** Defaults to KubeconfigOptions.auth. */
  auth?: KubeconfigAuth;
}

export interface KubeconfigOptions {
  /** Default 'token'. */
  auth?: KubeconfigAuth;
  /** Namespace of the single default context (ignored when `contexts` is given). */
  namespace?: string;
  /** Default: one context named `tunnelmesh-test`. */
  contexts?: readonly KubeconfigContext[];
  /** Default: the first context; null writes no current-context. */
  currentContext?: string | null;
  /** The user entry's credentials exactly as given (exec plugins, tokenFile…), instead of `auth`'s. */
  user?: Record<string, unknown>;
}

/** What a kubeconfig needs to know about a server (an ApiServer has all of it). */
export interface KubeconfigTarget {
  url: string;
  caPem: string;
  token: string;
}

export const CLUSTER_NAME = 'tunnelmesh-test';
export const DEFAULT_CONTEXT = 'tunnelmesh-test';
const WRONG_TOKEN = 'not-the-test-token';

export function kubeconfigYaml(target: KubeconfigTarget, options: KubeconfigOptions = {}): string {
  const defaultAuth = options.auth ?? 'token';
  const contexts = options.contexts ?? [
    { name: DEFAULT_CONTEXT, ...(options.namespace !== undefined ? { namespace: options.namespace } : {}) },
  ];
  if (contexts.length === 0) throw new Error('kubeconfig: at least one context is needed');
  const authsUsed = [...new Set(contexts.map((c) => c.auth ?? defaultAuth))];
  const currentContext = options.currentContext === undefined ? contexts[0]?.name : options.currentContext;

  const config: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [
      {
        name: CLUSTER_NAME,
        cluster: { 'certificate-authority-data': base64(target.caPem), server: target.url },
      },
    ],
    users: authsUsed.map((auth) => ({ name: userName(auth), user: options.user ?? userCredentials(auth, target) })),
    contexts: contexts.map((c) => ({
      name: c.name,
      context: {
        cluster: CLUSTER_NAME,
        user: userName(c.auth ?? defaultAuth),
        ...(c.namespace !== undefined ? { namespace: c.namespace } : {}),
      },
    })),
  };
  if (currentContext !== null && currentContext !== undefined) config['current-context'] = currentContext;
  return jsyaml.dump(config, { lineWidth: -1 });
}

/** Writes a kubeconfig for `target` and returns its path. */
export function writeKubeconfig(target: KubeconfigTarget, options: KubeconfigOptions = {}): string {
  const file = join(kubeconfigDir(), `kubeconfig-${++written}.yaml`);
  writeFileSync(file, kubeconfigYaml(target, options), { mode: 0o600 });
  return file;
}

/** A kubeconfig whose server is a loopback port nothing listens on (connection refused). */
export async function writeUnreachableKubeconfig(options: KubeconfigOptions = {}): Promise<string> {
  return writeKubeconfig({ url: await closedPortUrl(), caPem: testPki().caPem, token: 'test-token' }, options);
}

/** An https URL on 127.0.0.1 whose port was just free: bound, then released. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `https://127.0.0.1:${port}`;
}

function userName(auth: KubeconfigAuth): string {
  return `tunnelmesh-test-${auth}`;
}

function userCredentials(auth: KubeconfigAuth, target: KubeconfigTarget): Record<string, string> {
  switch (auth) {
    case 'token':
      return { token: target.token };
    case 'wrong-token':
      return { token: WRONG_TOKEN };
    case 'client-cert': {
      const { client } = testPki();
      return { 'client-certificate-data': base64(client.certPem), 'client-key-data': base64(client.keyPem) };
    }
    case 'untrusted-client-cert': {
      const stranger = untrustedClientCert();
      return { 'client-certificate-data': base64(stranger.certPem), 'client-key-data': base64(stranger.keyPem) };
    }
    case 'none':
      return {};
  }
}

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

let written = 0;
const kubeconfigDir = lazyTempDir('kubeconfig');
