import { tm205 } from '../../src/rules/catalog/tm205-reserved-port.js';
import { deployment, namespace, pod, service } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const injected = namespace('app', { 'istio-injection': 'enabled' });

testRule(tm205, {
  valid: [
    { name: 'ports outside the range', objects: [injected, deployment('app', 'web', { ports: [{ port: 8080 }, { port: 14999 }, { port: 15101 }] })] },
    { name: 'istio-proxy declares 15090 itself (running pod)', objects: [injected, { ...pod('app', 'web-1', { owner: 'web' }), spec: { containers: [{ name: 'web', ports: [{ containerPort: 8080 }] }, { name: 'istio-proxy', ports: [{ containerPort: 15090, name: 'http-envoy-prom' }] }] } }] },
    {
      name: 'istio-init and istio-validation are Istio\'s, never the application\'s',
      objects: [injected, { ...pod('app', 'web-1', { owner: 'web' }), spec: { initContainers: [{ name: 'istio-init', ports: [{ containerPort: 15001 }] }, { name: 'istio-validation', ports: [{ containerPort: 15006 }] }], containers: [{ name: 'web', ports: [{ containerPort: 8080 }] }, { name: 'istio-proxy' }] } }],
    },
    { name: 'no sidecar: nothing is reserved', objects: [namespace('app'), deployment('app', 'web', { ports: [{ port: 15020 }] })] },
    { name: 'not injected (label false)', objects: [injected, deployment('app', 'web', { labels: { app: 'web', 'sidecar.istio.io/inject': 'false' }, ports: [{ port: 15000 }] })] },
    { name: 'sidecar unknown (namespace labels not known): no evidence', objects: [deployment('app', 'web', { ports: [{ port: 15000 }] })] },
    { name: 'a gateway pod: the proxy is the application', objects: [injected, { ...pod('app', 'gw-1', { sidecar: 'gateway' }), spec: { containers: [{ name: 'istio-proxy', args: ['proxy', 'router'], ports: [{ containerPort: 15021 }, { containerPort: 15090 }] }] } }] },
  ],
  invalid: [
    {
      name: 'an app on 15020 (the agent\'s metrics port): moved to 8080, and the Service targeting it by number follows',
      objects: [injected, deployment('app', 'web', { ports: [{ name: 'metrics', port: 15020 }] }), service('app', 'web', [{ name: 'http-metrics', port: 80, targetPort: 15020 }])],
      findings: [
        {
          resource: 'Deployment app/web',
          port: 15020,
          message: ['port 15020 in container web', 'pilot-agent merged Prometheus metrics'],
          fixes: [
            { title: 'Move Deployment app/web off the sidecar\'s ports (15020 → 8080)', yaml: [/containerPort: 8080/] },
            { title: 'Point Service app/web at the new target port', yaml: [/targetPort: 8080/] },
          ],
        },
      ],
    },
    {
      name: 'an app declaring 15001 (the outbound capture listener) and 15100 (edge of the range)',
      objects: [injected, deployment('app', 'web', { ports: [{ port: 8080 }, { port: 15001 }, { port: 15100 }] })],
      findings: [{ resource: 'Deployment app/web', port: 15001, message: ['15001', '15100', 'Envoy outbound listener'], fixes: [{ yaml: [/containerPort: 8081/, /containerPort: 8082/] }] }],
    },
    {
      name: 'a second container (native sidecar pod, running, owned by a Deployment in the input)',
      objects: [
        injected,
        deployment('app', 'web', { ports: [{ port: 8080 }], containers: [{ name: 'exporter', image: 'exporter:1', ports: [{ containerPort: 15090 }] }] }),
        { ...pod('app', 'web-1', { owner: 'web', sidecar: 'native' }), spec: { initContainers: [{ name: 'istio-proxy', restartPolicy: 'Always' }], containers: [{ name: 'web', ports: [{ containerPort: 8080 }] }, { name: 'exporter', ports: [{ containerPort: 15090 }] }] } },
      ],
      findings: [{ resource: 'Deployment app/web', port: 15090, message: 'container exporter' }],
    },
  ],
});
