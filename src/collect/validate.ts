// Shape checks, once, at the border: every field the model reads is checked against the
// type declared in core/k8s.ts. An object of the wrong shape is skipped with a warning
// naming it and the field; the rest of the run goes on.

import type { KObject, StringMap } from '../core/k8s.js';
import { CFARGOTUNNEL_BINDING, GATEWAY_API_GATEWAY, kindIdOf } from '../core/kinds.js';
import { looksLikeMeshConfig } from '../core/wellknown.js';

type Shape =
  | 'string'
  | 'int'
  | 'port'
  | 'bool'
  | 'intOrString'
  | 'stringMap'
  | 'any'
  | { obj: Record<string, Shape>; required?: string[] }
  | { arr: Shape }
  | { map: Shape };

const strings: Shape = { arr: 'string' };
const selector: Shape = {
  obj: {
    matchLabels: 'stringMap',
    matchExpressions: { arr: { obj: { key: 'string', operator: 'string', values: strings }, required: ['key', 'operator'] } },
  },
};
const container: Shape = {
  obj: {
    name: 'string',
    image: 'string',
    command: strings,
    args: strings,
    restartPolicy: 'string',
    ports: { arr: { obj: { name: 'string', containerPort: 'port', protocol: 'string' }, required: ['containerPort'] } },
    env: { arr: { obj: { name: 'string', value: 'string' }, required: ['name'] } },
    volumeMounts: { arr: { obj: { name: 'string', mountPath: 'string', subPath: 'string' }, required: ['name'] } },
  },
  required: ['name'],
};
const podSpec: Shape = {
  obj: {
    containers: { arr: container },
    initContainers: { arr: container },
    hostNetwork: 'bool',
    volumes: {
      arr: {
        obj: {
          name: 'string',
          configMap: { obj: { name: 'string' } },
          projected: { obj: { sources: { arr: { obj: { configMap: { obj: { name: 'string' } } } } } } },
          secret: { obj: { secretName: 'string' } },
        },
        required: ['name'],
      },
    },
  },
  required: ['containers'],
};
const podTemplate: Shape = { obj: { spec: podSpec }, required: ['spec'] };
const workload: Shape = {
  obj: {
    spec: {
      obj: {
        selector,
        replicas: 'int',
        template: podTemplate,
        jobTemplate: { obj: { spec: { obj: { template: podTemplate } } } },
      },
    },
  },
  required: ['spec'],
};
const tls: Shape = { obj: { mode: 'string' } };
const trafficPolicy: Shape = {
  obj: {
    tls,
    portLevelSettings: { arr: { obj: { port: { obj: { number: 'port' } }, tls } } },
  },
};
const destination: Shape = {
  obj: { host: 'string', subset: 'string', port: { obj: { number: 'port' } } },
  required: ['host'],
};
const routes: Shape = { arr: { obj: { route: { arr: { obj: { destination } } } } } };

const bindingSubjects: Shape = {
  arr: {
    obj: {
      kind: 'string',
      name: 'string',
      spec: {
        obj: {
          fqdn: 'string',
          protocol: 'string',
          path: 'string',
          target: 'string',
          caPool: 'string',
          noTlsVerify: 'bool',
          http2Origin: 'bool',
          proxyAddress: 'string',
          proxyPort: 'port',
          proxyType: 'string',
        },
      },
    },
    required: ['name'],
  },
};
const bindingRef: Shape = { obj: { kind: 'string', name: 'string', disableDNSUpdates: 'bool' } };
const tunnelBinding: Shape = {
  obj: { subjects: bindingSubjects, tunnelRef: bindingRef, spec: { obj: { subjects: bindingSubjects, tunnelRef: bindingRef } } },
};
const operatorTunnel: Shape = {
  obj: {
    spec: { obj: { cloudflare: { obj: { domain: 'string' } }, fallbackTarget: 'string' } },
    status: { obj: { tunnelId: 'string' } },
  },
};
const tunnelRef: Shape = { obj: { kind: 'string', name: 'string', namespace: 'string' } };

const KIND_SHAPES: Record<string, Shape> = {
  Pod: {
    obj: {
      spec: podSpec,
      status: { obj: { phase: 'string', podIP: 'string', conditions: { arr: { obj: { type: 'string', status: 'string' } } } } },
    },
    required: ['spec'],
  },
  Deployment: workload,
  StatefulSet: workload,
  DaemonSet: workload,
  ReplicaSet: workload,
  Job: workload,
  CronJob: workload,
  Service: {
    obj: {
      spec: {
        obj: {
          selector: 'stringMap',
          type: 'string',
          clusterIP: 'string',
          externalName: 'string',
          ports: {
            arr: {
              obj: { name: 'string', port: 'port', targetPort: 'intOrString', protocol: 'string', appProtocol: 'string' },
              required: ['port'],
            },
          },
        },
      },
    },
  },
  ConfigMap: { obj: { data: 'stringMap' } },
  PeerAuthentication: {
    obj: {
      spec: {
        obj: {
          selector: { obj: { matchLabels: 'stringMap' } },
          mtls: { obj: { mode: 'string' } },
          portLevelMtls: { map: { obj: { mode: 'string' } } },
        },
      },
    },
  },
  DestinationRule: {
    obj: {
      spec: {
        obj: {
          host: 'string',
          trafficPolicy,
          exportTo: strings,
          workloadSelector: { obj: { matchLabels: 'stringMap' } },
          subsets: { arr: { obj: { name: 'string', labels: 'stringMap', trafficPolicy }, required: ['name'] } },
        },
        required: ['host'],
      },
    },
    required: ['spec'],
  },
  VirtualService: {
    obj: { spec: { obj: { hosts: strings, gateways: strings, exportTo: strings, http: routes, tcp: routes, tls: routes } } },
  },
  ServiceEntry: { obj: { spec: { obj: { hosts: strings, exportTo: strings } } } },
  Gateway: { obj: { spec: { obj: { selector: 'stringMap' } } } },
  Ingress: {
    obj: {
      spec: {
        obj: {
          ingressClassName: 'string',
          rules: {
            arr: {
              obj: {
                host: 'string',
                http: {
                  obj: {
                    paths: {
                      arr: {
                        obj: {
                          path: 'string',
                          pathType: 'string',
                          backend: {
                            obj: {
                              service: {
                                obj: { name: 'string', port: { obj: { number: 'port', name: 'string' } } },
                                required: ['name'],
                              },
                            },
                          },
                        },
                        required: ['backend'],
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
  IngressClass: {
    obj: {
      spec: {
        obj: {
          controller: 'string',
          parameters: { obj: { apiGroup: 'string', kind: 'string', name: 'string', namespace: 'string', scope: 'string' } },
        },
      },
    },
  },
  TunnelIngressClassConfig: {
    obj: {
      spec: {
        obj: {
          tunnelRef: { obj: { kind: 'string', name: 'string', namespace: 'string' } },
          defaultProtocol: 'string',
          defaultOriginRequest: { map: 'any' },
        },
      },
    },
  },
  TunnelGatewayClassConfig: {
    obj: { spec: { obj: { tunnelRef, defaultOriginRequest: { map: 'any' }, fallbackTarget: 'string' } } },
  },
  TunnelBinding: tunnelBinding,
  [CFARGOTUNNEL_BINDING]: tunnelBinding,
  Tunnel: operatorTunnel,
  ClusterTunnel: operatorTunnel,
  GatewayClass: {
    obj: {
      spec: {
        obj: {
          controllerName: 'string',
          parametersRef: { obj: { group: 'string', kind: 'string', name: 'string', namespace: 'string' } },
        },
      },
    },
  },
  [GATEWAY_API_GATEWAY]: {
    obj: {
      spec: {
        obj: {
          gatewayClassName: 'string',
          listeners: {
            arr: {
              obj: {
                name: 'string',
                port: 'port',
                protocol: 'string',
                hostname: 'string',
                allowedRoutes: { obj: { namespaces: { obj: { from: 'string', selector: { obj: { matchLabels: 'stringMap' } } } } } },
              },
            },
          },
          addresses: { arr: { obj: { type: 'string', value: 'string' } } },
        },
      },
    },
  },
  HTTPRoute: {
    obj: {
      spec: {
        obj: {
          parentRefs: {
            arr: { obj: { group: 'string', kind: 'string', name: 'string', namespace: 'string', sectionName: 'string', port: 'port' }, required: ['name'] },
          },
          hostnames: strings,
          rules: {
            arr: {
              obj: {
                matches: { arr: { obj: { path: { obj: { type: 'string', value: 'string' } } } } },
                backendRefs: {
                  arr: { obj: { group: 'string', kind: 'string', name: 'string', namespace: 'string', port: 'port', weight: 'int' }, required: ['name'] },
                },
              },
            },
          },
        },
      },
    },
  },
  Sidecar: {
    obj: {
      spec: {
        obj: {
          workloadSelector: { obj: { labels: 'stringMap' } },
          egress: { arr: { obj: { port: { obj: { number: 'port', protocol: 'string', name: 'string' } }, bind: 'string', hosts: strings } } },
          outboundTrafficPolicy: { obj: { mode: 'string' } },
        },
      },
    },
  },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

const STRING_MAP: Shape = { map: 'string' };
type ObjShape = { obj: Record<string, Shape>; required?: string[] };
const fieldsOf = new WeakMap<ObjShape, Array<[string, Shape]>>();

/** The path being checked, as segments: built into text only when a problem is found. */
type PathStack = Array<string | number>;

function at(path: PathStack, last?: string): string {
  let out = '';
  for (const seg of last === undefined ? path : [...path, last]) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

/** First problem found in `value` against `shape`, as "path: expected …", or undefined. */
function check(value: unknown, shape: Shape, path: PathStack): string | undefined {
  if (value === undefined) return undefined; // absent optional fields are fine
  if (value === null) return `${at(path)}: expected ${expected(shape)}, found null`;
  switch (shape) {
    case 'any':
      return undefined;
    case 'string':
      return typeof value === 'string' ? undefined : `${at(path)}: expected a string, found ${describe(value)}`;
    case 'bool':
      return typeof value === 'boolean' ? undefined : `${at(path)}: expected true or false, found ${describe(value)}`;
    case 'int':
      return Number.isInteger(value) ? undefined : `${at(path)}: expected an integer, found ${describe(value)}`;
    case 'port':
      return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535
        ? undefined
        : `${at(path)}: expected a port number 0-65535, found ${describe(value)}`;
    case 'intOrString':
      return Number.isInteger(value) || typeof value === 'string'
        ? undefined
        : `${at(path)}: expected a number or a name, found ${describe(value)}`;
    case 'stringMap':
      return check(value, STRING_MAP, path);
  }
  if ('arr' in shape) {
    if (!Array.isArray(value)) return `${at(path)}: expected a list, found ${describe(value)}`;
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      const problem = check(value[i], shape.arr, path);
      path.pop();
      if (problem) return problem;
    }
    return undefined;
  }
  if (!isPlainObject(value)) return `${at(path)}: expected a mapping, found ${describe(value)}`;
  if ('map' in shape) {
    for (const key in value) {
      const item = value[key];
      if (item === null) {
        delete value[key]; // `key: null` is `key` absent, as Kubernetes decodes it
        continue;
      }
      path.push(key);
      const problem = check(item, shape.map, path);
      path.pop();
      if (problem) return problem;
    }
    return undefined;
  }
  for (const field of shape.required ?? []) {
    if (value[field] === undefined || value[field] === null) return `${at(path, field)}: missing`;
  }
  let fields = fieldsOf.get(shape);
  if (!fields) {
    fields = Object.entries(shape.obj);
    fieldsOf.set(shape, fields);
  }
  for (const [field, fieldShape] of fields) {
    const item = value[field];
    if (item === undefined) continue;
    if (item === null) {
      delete value[field];
      continue;
    }
    path.push(field);
    const problem = check(item, fieldShape, path);
    path.pop();
    if (problem) return problem;
  }
  return undefined;
}

function expected(shape: Shape): string {
  if (typeof shape === 'string') {
    return { string: 'a string', int: 'an integer', port: 'a port number', bool: 'true or false', intOrString: 'a number or a name', stringMap: 'a mapping', any: 'a value' }[shape];
  }
  return 'arr' in shape ? 'a list' : 'a mapping';
}

export type Warn = (message: string) => void;

/**
 * Labels and annotations must be strings; YAML makes `true` and `8080` booleans and numbers.
 * Kubernetes rejects those, so say so, and read them as the strings the author meant.
 */
function coerceStringMap(value: unknown, describeMap: () => string, warn: Warn): StringMap | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) {
    warn(`${describeMap()} is ${describe(value)}, not a mapping: ignored`);
    return undefined;
  }
  // Nearly always every value is already a string: keep the map as it is.
  let allStrings = true;
  for (const key in value) {
    if (typeof value[key] !== 'string') {
      allStrings = false;
      break;
    }
  }
  if (allStrings) return value as StringMap;
  const what = describeMap();
  const out: StringMap = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string') out[key] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') {
      warn(`${what} ${key}: ${JSON.stringify(v)} is not a string (quote it; Kubernetes rejects it)`);
      out[key] = String(v);
    } else if (v === null) out[key] = '';
    else warn(`${what} ${key}: ${describe(v)} is not a string: ignored`);
  }
  return out;
}

function coerceMetadataMaps(meta: Record<string, unknown>, where: string, warn: Warn): void {
  for (const field of ['labels', 'annotations'] as const) {
    const coerced = coerceStringMap(meta[field], () => `${where}: ${field === 'labels' ? 'label' : 'annotation'}`, warn);
    if (coerced) meta[field] = coerced;
    else delete meta[field];
  }
}

/** Pod templates carry labels and annotations too (where injection settings live). */
function coerceTemplateMaps(obj: Record<string, unknown>, where: string, warn: Warn): void {
  const spec = obj.spec;
  if (!isPlainObject(spec)) return;
  const templates = [spec.template];
  const jobTemplate = spec.jobTemplate;
  if (isPlainObject(jobTemplate) && isPlainObject(jobTemplate.spec)) templates.push(jobTemplate.spec.template);
  for (const template of templates) {
    if (isPlainObject(template) && isPlainObject(template.metadata)) {
      coerceMetadataMaps(template.metadata, `${where} pod template`, warn);
    }
  }
}

export interface NormalizeOptions {
  /** Namespace given to namespaced objects that have none. */
  defaultNamespace: string;
  isNamespaced: (kind: string, apiVersion: string) => boolean;
}

/**
 * Checks one raw object; returns it (with labels/annotations as strings and a namespace
 * when its kind is namespaced) or undefined after warning why it was skipped.
 */
export function normalizeObject(raw: unknown, where: string, opts: NormalizeOptions, warn: Warn): KObject | undefined {
  if (!isPlainObject(raw)) {
    warn(`${where}: ${describe(raw)} is not a Kubernetes object: skipped`);
    return undefined;
  }
  const kind = raw.kind;
  if (typeof kind !== 'string' || kind === '') {
    const meshKeys = looksLikeMeshConfig(raw);
    if (meshKeys) {
      warn(`${where}: a MeshConfig (${meshKeys.slice(0, 3).join(', ')}), not a Kubernetes object: pass it with --mesh-config ${where.replace(/:\d+$/, '')}; skipped`);
      return undefined;
    }
    warn(`${where}: no kind: not a Kubernetes object, skipped`);
    return undefined;
  }
  if (typeof raw.apiVersion !== 'string') {
    warn(`${where}: ${kind} has no apiVersion: skipped`);
    return undefined;
  }
  const meta = raw.metadata;
  if (!isPlainObject(meta) || typeof meta.name !== 'string' || meta.name === '') {
    warn(`${where}: ${kind} has no metadata.name: skipped`);
    return undefined;
  }
  if (meta.namespace !== undefined && typeof meta.namespace !== 'string') {
    warn(`${where}: ${kind} ${meta.name}: metadata.namespace is ${describe(meta.namespace)}: skipped`);
    return undefined;
  }
  if (opts.isNamespaced(kind, raw.apiVersion)) {
    if (!meta.namespace) meta.namespace = opts.defaultNamespace;
  } else {
    delete meta.namespace;
  }
  const name = meta.namespace ? `${kind} ${meta.namespace}/${meta.name}` : `${kind} ${meta.name}`;
  coerceMetadataMaps(meta, name, warn);
  coerceTemplateMaps(raw, name, warn);
  const shape = KIND_SHAPES[kindIdOf({ kind, apiVersion: raw.apiVersion })];
  if (shape) {
    const problem = check(raw, shape, []);
    if (problem) {
      warn(`${where}: ${name}: ${problem}: skipped`);
      return undefined;
    }
  }
  if (Array.isArray(meta.ownerReferences)) {
    meta.ownerReferences = meta.ownerReferences.filter(
      (o: unknown) => isPlainObject(o) && typeof o.kind === 'string' && typeof o.name === 'string',
    );
  } else delete meta.ownerReferences;
  if (typeof meta.creationTimestamp !== 'string') delete meta.creationTimestamp;
  return raw as KObject;
}
