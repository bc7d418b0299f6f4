import { tm108 } from '../../src/rules/catalog/tm108-invalid-capture-annotation.js';
import { deployment, namespace, pod, type Obj } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const EXCL_IN = 'traffic.sidecar.istio.io/excludeInboundPorts';
const INCL_IN = 'traffic.sidecar.istio.io/includeInboundPorts';
const EXCL_OUT = 'traffic.sidecar.istio.io/excludeOutboundPorts';
const INCL_OUT = 'traffic.sidecar.istio.io/includeOutboundPorts';
const EXCL_IP = 'traffic.sidecar.istio.io/excludeOutboundIPRanges';
const INCL_IP = 'traffic.sidecar.istio.io/includeOutboundIPRanges';

function app(annotations: Record<string, string>, nsLabels: Record<string, string> | null = { 'istio-injection': 'enabled' }, labels?: Record<string, string>): Obj[] {
  return [
    ...(nsLabels ? [namespace('app', nsLabels)] : []),
    deployment('app', 'gw', { annotations, ...(labels ? { labels } : {}), ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9091 }] }),
  ];
}

testRule(tm108, {
  valid: [
    { name: 'port lists with spaces around items', objects: app({ [EXCL_IN]: ' 9091 , 15020 ', [EXCL_OUT]: '5432, 6379' }) },
    { name: 'includeInboundPorts "*" and an empty include list', objects: app({ [INCL_IN]: '*' }) },
    { name: 'an empty includeInboundPorts (capture nothing) is valid', objects: app({ [INCL_IN]: '' }) },
    { name: 'port 0 is accepted by the injector', objects: app({ [EXCL_IN]: '0' }) },
    { name: 'CIDR lists and "*"', objects: app({ [INCL_IP]: '*', [EXCL_IP]: '10.0.0.0/8,fd00::/8,169.254.169.254/32' }) },
    { name: 'includeOutboundPorts is not validated by the injector', objects: app({ [INCL_OUT]: '8000-8010' }) },
    { name: 'not injected (inject=false label): the injector never looks at it', objects: app({ [EXCL_IN]: '8000-8010' }, { 'istio-injection': 'enabled' }, { app: 'gw', 'sidecar.istio.io/inject': 'false' }) },
    { name: 'not injected (namespace without injection)', objects: app({ [EXCL_IN]: '*' }, {}) },
    { name: 'ambient namespace: no injection', objects: app({ [EXCL_IN]: 'http' }, { 'istio.io/dataplane-mode': 'ambient' }) },
    { name: "seed 000's misspelled key is TM105's business, not a value problem", objects: app({ 'traffic.istio.io/excludeInboundPorts': '9091-9092' }) },
    { name: 'a running pod without a sidecar (hostNetwork)', objects: [namespace('app', { 'istio-injection': 'enabled' }), pod('app', 'x', { sidecar: 'none', hostNetwork: true, annotations: { [EXCL_IN]: '*' } })] },
  ],
  invalid: [
    {
      name: 'a range: written out port by port',
      objects: app({ [EXCL_IN]: '9091-9093' }),
      findings: [
        {
          resource: 'Deployment app/gw',
          message: [`annotation ${EXCL_IN}: "9091-9093"`, '"9091-9093"', 'denies its pods at admission'],
          fixes: [{ title: `Write ${EXCL_IN} as the injector accepts on Deployment app/gw`, yaml: [`${EXCL_IN}: 9091,9092,9093`, 'range 9091-9093 written out'] }],
        },
      ],
    },
    {
      name: '"*" in an exclude list, a trailing comma, a port above 65535 and a port name',
      objects: app({ [EXCL_IN]: '9091,admin,70000,', [EXCL_OUT]: '*' }),
      findings: [
        {
          resource: 'Deployment app/gw',
          message: ['"admin"', '"70000"', '"(empty item)"', `${EXCL_OUT}: "*"`],
          fixes: [{ yaml: [`${EXCL_IN}: "9091"`, 'port name admin → 9091', 'dropped "70000"', `${EXCL_OUT}: ""`, `set ${INCL_IP}: "" instead`] }],
        },
      ],
    },
    {
      name: '"*" only stands alone in includeInboundPorts',
      objects: app({ [INCL_IN]: '*,8080' }),
      findings: [{ resource: 'Deployment app/gw', message: '"*"', fixes: [{ yaml: [`${INCL_IN}: "*"`] }] }],
    },
    {
      name: 'CIDRs: spaces are not trimmed, a bare address is not a prefix',
      objects: app({ [EXCL_IP]: '10.0.0.0/8, 192.168.0.0/16,169.254.169.254' }),
      findings: [{ resource: 'Deployment app/gw', message: ['" 192.168.0.0/16"', '"169.254.169.254"'], fixes: [{ yaml: [`${EXCL_IP}: 10.0.0.0/8,192.168.0.0/16,169.254.169.254/32`] }] }],
    },
    {
      name: 'namespace labels unknown: said conditionally',
      objects: app({ [EXCL_IN]: '8000-8001' }, null),
      findings: [{ resource: 'Deployment app/gw', message: 'if it does, it denies them' }],
    },
    {
      name: 'istio.io/rev namespace injects, so it validates',
      objects: app({ [EXCL_IN]: 'a,b' }, { 'istio.io/rev': 'canary' }),
      findings: [{ resource: 'Deployment app/gw' }],
    },
    {
      name: 'pod label sidecar.istio.io/inject=true in an unlabelled namespace',
      objects: app({ [EXCL_IN]: '1-2' }, {}, { app: 'gw', 'sidecar.istio.io/inject': 'true' }),
      findings: [{ resource: 'Deployment app/gw' }],
    },
    {
      name: 'the deprecated annotation cannot opt in: this is the label plus a bad value (annotation inject=true alone would not validate)',
      objects: app({ [EXCL_IN]: '1-2', 'sidecar.istio.io/inject': 'true' }, {}, { app: 'gw', 'sidecar.istio.io/inject': 'true' }),
      findings: [{ resource: 'Deployment app/gw' }],
    },
    {
      name: 'running pods of one Deployment (annotation changed after injection): one finding for the owner, the fix patches its template',
      objects: [
        namespace('app', { 'istio-injection': 'enabled' }),
        pod('app', 'gw-1', { owner: 'gw', annotations: { [EXCL_IN]: '9091-9092' } }),
        pod('app', 'gw-2', { owner: 'gw', sidecar: 'native', annotations: { [EXCL_IN]: '9091-9092' } }),
      ],
      findings: [{ resource: 'Deployment app/gw', message: ['Deployment app/gw (pods gw-1, gw-2)', 'denies the next pods'], fixes: [{ yaml: ['kind: Deployment', 'name: gw', 'template:'] }] }],
      // The Pods keep their annotations until the patched template replaces them.
      fixResolves: false,
    },
    {
      name: 'a bare Pod: re-created as written (without what the injector added) with the repaired value',
      objects: [namespace('app', { 'istio-injection': 'enabled' }), pod('app', 'debug', { annotations: { [EXCL_IN]: '1-2' } })],
      findings: [{ resource: 'Pod app/debug', fixes: [{ yaml: ['kind: Pod', 'kubectl replace --force', `${EXCL_IN}: 1,2`, /^(?![\s\S]*(istio-proxy|istio-init|tlsMode))/] }] }],
    },
  ],
});
