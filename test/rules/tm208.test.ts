import { tm208 } from '../../src/rules/catalog/tm208-conflicting-port-protocols.js';
import { deployment, namespace, pod, service } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const injected = namespace('app', { 'istio-injection': 'enabled' });
const web = deployment('app', 'web', { ports: [{ name: 'http', port: 8080 }, { name: 'grpc', port: 9000 }] });

testRule(tm208, {
  valid: [
    { name: 'two Services, same protocol on the same target port', objects: [injected, web, service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]), service('app', 'web-internal', [{ name: 'http-internal', port: 8080 }], { selector: { app: 'web' } })] },
    { name: 'HTTP and gRPC share the HTTP family', objects: [injected, web, service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]), service('app', 'web-grpc', [{ name: 'grpc', port: 8080 }], { selector: { app: 'web' } })] },
    { name: 'an undeclared (sniffed) port next to a declared one is not a conflict', objects: [injected, web, service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]), service('app', 'web-raw', [{ port: 8080 }], { selector: { app: 'web' } })] },
    { name: 'different target ports', objects: [injected, web, service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]), service('app', 'web-tcp', [{ name: 'tcp', port: 9000 }], { selector: { app: 'web' } })] },
    { name: 'not meshed', objects: [namespace('app'), web, service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]), service('app', 'web-tcp', [{ name: 'tcp', port: 8080 }], { selector: { app: 'web' } })] },
    { name: 'UDP is never proxied', objects: [injected, web, service('app', 'dns', [{ name: 'dns', port: 53, targetPort: 8080, protocol: 'UDP' }], { selector: { app: 'web' } }), service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }])] },
  ],
  invalid: [
    {
      name: 'http and tcp names on one target port (istioctl IST0116 case): the minority Service is edited',
      objects: [
        injected,
        web,
        service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]),
        service('app', 'web-admin', [{ name: 'http-admin', port: 81, targetPort: 8080 }], { selector: { app: 'web' } }),
        service('app', 'web-tcp', [{ name: 'tcp', port: 8080 }], { selector: { app: 'web' } }),
      ],
      findings: [
        {
          resource: 'Deployment app/web',
          port: 8080,
          message: ['Target port 8080', 'HTTP by Service web port 80', 'TCP by Service web-tcp port 8080'],
          evidence: ['port name "tcp"'],
          fixes: [{ title: 'Declare Service app/web-tcp port to target port 8080 as http', yaml: ['appProtocol: http'] }],
        },
      ],
    },
    {
      name: 'appProtocol overrides the name: https vs http through a named targetPort, running pods',
      objects: [
        namespace('app'),
        pod('app', 'web-1', { owner: 'web', ports: [{ name: 'web', port: 8443 }] }),
        pod('app', 'web-2', { owner: 'web', sidecar: 'native', ports: [{ name: 'web', port: 8443 }] }),
        service('app', 'web', [{ name: 'http', port: 443, targetPort: 'web', appProtocol: 'https' }]),
        service('app', 'web-plain', [{ name: 'http', port: 80, targetPort: 8443 }], { selector: { app: 'web' } }),
      ],
      findings: [{ resource: 'Deployment app/web', port: 8443, message: ['TLS by Service web port 443', 'HTTP by Service web-plain port 80'], evidence: ['appProtocol "https"'] }],
    },
  ],
});
