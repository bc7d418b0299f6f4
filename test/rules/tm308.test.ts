import { tm308 } from '../../src/rules/catalog/tm308-port-protocol-undeclared.js';
import { testRule } from '../support/rule-tester.js';
import { viaConfig, viaOperator } from '../support/tunnel-scenarios.js';

const host = 'web.example.com';
const catchAll = { service: 'http_status:404' };

testRule(tm308, {
  valid: [
    { name: 'a port named http', objects: viaOperator([{ host, service: 'web', port: 80 }], { ports: [{ name: 'http', port: 80 }] }) },
    { name: 'appProtocol declares it', objects: viaOperator([{ host, service: 'web', port: 80 }], { ports: [{ name: 'main', port: 80, appProtocol: 'http' }] }) },
    { name: 'the workload is not meshed', objects: viaOperator([{ host, service: 'web', port: 80 }], { ports: [{ port: 80 }], meshed: false }) },
    { name: 'an unnamed MySQL port is TCP to Istio', objects: viaConfig([{ hostname: 'db.example.com', service: 'tcp://web.app:3306' }, catchAll], { ports: [{ port: 3306 }] }) },
  ],
  invalid: [
    {
      name: 'an unnamed port reached by http://',
      objects: viaOperator([{ host, service: 'web', port: 80 }], { ports: [{ port: 80, targetPort: 8080 }] }),
      findings: [
        {
          resource: 'Service app/web',
          port: 80,
          message: ['declares no protocol Istio knows', 'Deployment app/web'],
          fixes: [{ title: 'Declare appProtocol http on port 80 of Service app/web', yaml: ['appProtocol: http', 'handles it as HTTP'] }],
        },
      ],
    },
    {
      name: "a name Istio does not know (the operator's web): Istio sniffs",
      objects: viaOperator([{ host, service: 'web', port: 8080 }], { ports: [{ name: 'web', port: 8080 }] }),
      findings: [{ resource: 'Service app/web', port: 8080, fixes: [{ yaml: ['appProtocol: http', 'name: web'] }] }],
    },
    {
      name: 'wss:// to an undeclared port: appProtocol kubernetes.io/wss',
      objects: viaConfig([{ hostname: host, service: 'wss://web.app:8443' }, catchAll], { ports: [{ name: 'socket', port: 8443 }] }),
      findings: [{ resource: 'Service app/web', port: 8443, fixes: [{ yaml: ['appProtocol: kubernetes.io/wss'] }] }],
    },
  ],
});
