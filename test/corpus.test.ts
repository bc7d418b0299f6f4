// Real-world corpus (../shared/corpus, read at test time; never copied into the project):
// no crash on any file, no error or warning on the known-good samples, and where a tunnelmesh
// rule and an istioctl analyzer judge the same thing, the verdicts agree — or the entry says why not.
//
// What istioctl reports on Istio's analyzer test inputs comes from istio/istio
// pkg/config/analysis/analyzers/analyzers_test.go (testGrid), codes from pkg/config/analysis/msg.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import jsyaml from 'js-yaml';
import { collectFromTexts, type NamedText } from '../src/collect/files.js';
import { InputError } from '../src/errors.js';
import { formatRef } from '../src/core/k8s.js';
import { MeshModel } from '../src/model/model.js';
import { judge } from '../src/rules/judge.js';
import type { Finding } from '../src/rules/types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CORPUS = join(ROOT, '..', 'shared', 'corpus');
const ISTIO = 'istio__istio';
const OPERATOR = 'StringKe__cloudflare-operator';

const present = existsSync(CORPUS);
if (!present) {
  process.stderr.write(`\n!!! corpus tests SKIPPED: ${CORPUS} does not exist (the shared corpus is expected at ../shared/corpus from the repository root) !!!\n\n`);
}

function text(dir: string, file: string): NamedText {
  return { name: `${dir}/${file}`, text: readFileSync(join(CORPUS, dir, file), 'utf8') };
}

function files(dir: string): string[] {
  return readdirSync(join(CORPUS, dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
}

/** A Namespace as a typical install labels it (the samples themselves carry none). */
function injectedNamespace(name: string): NamedText {
  return { name: `namespace-${name}.yaml`, text: jsyaml.dump({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'istio-injection': 'enabled' } } }) };
}

function run(texts: NamedText[]): Finding[] {
  return judge(collectFromTexts(texts)).findings;
}

const line = (f: Finding): string => `${f.code} ${f.severity} ${formatRef(f.resource)}${f.port !== undefined ? `:${f.port}` : ''} — ${f.message}`;
const serious = (findings: Finding[]): Finding[] => findings.filter((f) => f.severity !== 'info');

describe('corpus: every file', { skip: !present && 'corpus not found' }, () => {
  for (const dir of present ? [ISTIO, OPERATOR] : []) {
    for (const file of files(dir)) {
      it(`${dir}/${file}: judged without a crash, alone and in an injection-enabled namespace`, () => {
        for (const texts of [[text(dir, file)], [text(dir, file), injectedNamespace('default')]]) {
          try {
            const findings = run(texts);
            for (const f of findings) {
              assert.ok(f.message.length > 0 && f.evidence.length > 0, `finding without message or evidence: ${line(f)}`);
              for (const fix of f.fixes) assert.doesNotThrow(() => jsyaml.loadAll(fix.yaml), `fix "${fix.title}" is not YAML`);
            }
          } catch (err) {
            // Files that hold no Kubernetes object (a bare MeshConfig fragment) end in one clear input error.
            assert.ok(err instanceof InputError, `${file}: ${(err as Error).stack}`);
          }
        }
      });
    }
    it(`${dir}: the whole directory as one input`, () => {
      assert.doesNotThrow(() => run(files(dir).filter((f) => !f.includes('mesh-with-automtls')).map((f) => text(dir, f))));
    });
  }
});

/** Known-good samples, as they are deployed together; none may draw an error or a warning. */
const KNOWN_GOOD: Array<{ name: string; dir: string; files: string[] }> = [
  {
    name: 'bookinfo with its gateway, destination-rule-all and virtual-service-all-v1',
    dir: ISTIO,
    files: ['samples__bookinfo__platform__kube__bookinfo.yaml', 'samples__bookinfo__networking__destination-rule-all.yaml', 'samples__bookinfo__networking__virtual-service-all-v1.yaml', 'samples__bookinfo__networking__bookinfo-gateway.yaml'],
  },
  {
    name: 'bookinfo with destination-rule-all-mtls (ISTIO_MUTUAL everywhere)',
    dir: ISTIO,
    files: ['samples__bookinfo__platform__kube__bookinfo.yaml', 'samples__bookinfo__networking__destination-rule-all-mtls.yaml', 'samples__bookinfo__networking__virtual-service-all-v1.yaml'],
  },
  { name: 'httpbin', dir: ISTIO, files: ['samples__httpbin__httpbin.yaml'] },
  { name: 'sleep', dir: ISTIO, files: ['samples__sleep__sleep.yaml'] },
  { name: 'curl', dir: ISTIO, files: ['samples__curl__curl.yaml'] },
  { name: 'helloworld', dir: ISTIO, files: ['samples__helloworld__helloworld.yaml'] },
  { name: 'all samples together', dir: ISTIO, files: ['samples__bookinfo__platform__kube__bookinfo.yaml', 'samples__httpbin__httpbin.yaml', 'samples__curl__curl.yaml', 'samples__helloworld__helloworld.yaml'] },
  {
    // The Gateway API samples and tunnel-binding-simple are judged below: deployed together they break (TM309, TM311, TM305).
    name: 'the Cloudflare operator samples and examples, together (but the Gateway API ones and tunnel-binding-simple)',
    dir: OPERATOR,
    files: present ? files(OPERATOR).filter((f) => !/gateway|httproute|tunnel-binding-simple/.test(f)) : [],
  },
  {
    name: 'the Cloudflare operator Gateway API samples on their own',
    dir: OPERATOR,
    files: present ? files(OPERATOR).filter((f) => /gateway_v1_gateway\.yaml|gatewayclass|tunnelgatewayclassconfig/.test(f)) : [],
  },
];

describe('corpus: known-good samples draw no error or warning', { skip: !present && 'corpus not found' }, () => {
  for (const sample of KNOWN_GOOD) {
    it(sample.name, () => {
      const texts = sample.files.map((f) => text(sample.dir, f));
      for (const input of [texts, [...texts, injectedNamespace('default')]]) {
        const found = serious(run(input));
        assert.deepEqual(found.map(line), [], `${sample.name}${input.length > texts.length ? ' (injection enabled)' : ''}`);
      }
    });
  }

  it('bookinfo: the only notes are subsets whose pods the sample does not deploy (istioctl IST0173 reports them too)', () => {
    const texts = KNOWN_GOOD[0]?.files.map((f) => text(ISTIO, f)) ?? [];
    const notes = run([...texts, injectedNamespace('default')]).map((f) => `${f.code} ${formatRef(f.resource)}`);
    // destination-rule-all defines ratings v2, v2-mysql, v2-mysql-vm and details v2; bookinfo.yaml deploys none of them.
    assert.deepEqual(notes, ['TM405 DestinationRule default/details', 'TM405 DestinationRule default/ratings']);
  });
});

interface Agreement {
  file: string;
  /** What istioctl analyze reports on the file (analyzers_test.go), as `CODE Name Kind ns/name`. */
  istioctl: string[];
  /** tunnelmesh codes that judge the same (or neighbouring) things: their findings must be exactly `tunnelmesh`. */
  judges: string[];
  tunnelmesh: string[];
  /** Findings of judged codes left out of the comparison (the note says why). */
  ignore?: string[];
  /** Where and why the verdicts differ. */
  notes: string[];
}

const AGREEMENTS: Agreement[] = [
  {
    file: 'pkg__config__analysis__analyzers__testdata__injection.yaml',
    istioctl: [
      'IST0102 NamespaceNotInjected Namespace bar',
      'IST0103 PodMissingProxy Pod default/noninjectedpod',
      'IST0123 NamespaceMultipleInjectionLabels Namespace busted',
      'IST0123 NamespaceMultipleInjectionLabels Namespace multi-ns-1',
      'IST0123 NamespaceMultipleInjectionLabels Namespace multi-ns-2',
      'IST0123 NamespaceMultipleInjectionLabels Namespace multi-ns-3',
    ],
    judges: ['TM203', 'TM206', 'TM209'],
    tunnelmesh: ['TM203 Pod default/noninjectedpod', 'TM206 Pod default/noninjectedpodhostnetwork', 'TM209 Namespace multi-ns-2', 'TM209 Namespace multi-ns-3'],
    notes: [
      'missing proxy: agree (IST0103 = TM203 on noninjectedpod); both stay silent on the pods opted out by label or annotation, the hostNetwork pod and the istiod pod',
      'IST0123 on multi-ns-2/multi-ns-3 (ambient plus istio-injection or istio.io/rev) = TM209',
      'IST0123 on busted/multi-ns-1 (istio-injection=enabled plus istio.io/rev): tunnelmesh applies the webhooks\' precedence (istio-injection wins) and has no rule about redundant injection labels; TM209 is about ambient vs sidecar',
      'IST0102 (namespace bar has no injection label): tunnelmesh judges the workloads present, not unlabelled empty namespaces',
      'TM206 (info) names the hostNetwork pod in an injection-enabled namespace that istioctl skips silently: both agree it is not a missing proxy',
    ],
  },
  {
    file: 'pkg__config__analysis__analyzers__testdata__deployment-multi-service.yaml',
    istioctl: [
      'IST0116 DeploymentAssociatedToMultipleServices Deployment bookinfo/multiple-svc-multiple-prot',
      'IST0116 DeploymentAssociatedToMultipleServices Deployment bookinfo/multiple-without-port',
      'IST0137 DeploymentConflictingPorts Deployment bookinfo/conflicting-ports',
    ],
    judges: ['TM208', 'TM204', 'TM207'],
    tunnelmesh: [
      'TM204 Service bookinfo/productpage-http-v1',
      'TM204 Service bookinfo/productpage-tcp-v1',
      'TM207 Deployment bookinfo/no-services',
      'TM208 Deployment bookinfo/conflicting-ports',
      'TM208 Deployment bookinfo/multiple-svc-multiple-prot',
      'TM208 Deployment bookinfo/multiple-without-port',
    ],
    notes: [
      'conflicting protocols: the same three Deployments. IST0116 compares the Kubernetes protocol field of equal Service port numbers (the file writes protocol: HTTP, which the API server would reject); TM208 compares the Istio protocol (port names tcp vs http) per target port. IST0137 flags conflicting-ports for reaching target port 9080 through ports 9080 and 9090; that target port is also declared tcp and http, hence TM208',
      'both stay silent on reviews-v2 (two Services, two target ports), on deployment-out-mesh (opted out) and on the waypoint Deployment',
      'TM204 (tunnelmesh only): the productpage Services select a meshed Deployment and the opted-out deployment-out-mesh, so their backends are half meshed',
      'TM207 (info, tunnelmesh only): no-services has a sidecar and no Service; the file comment expects a warning, current istioctl no longer has IST0117',
      'ann-enabled-ns-disabled: the annotation sidecar.istio.io/inject=true cannot opt a pod in (the webhook objectSelector sees labels only), so tunnelmesh treats it as outside the mesh',
    ],
  },
  {
    file: 'pkg__config__analysis__analyzers__testdata__service-no-port-name.yaml',
    istioctl: ['IST0118 PortNameIsNotUnderNamingConvention Service my-namespace1/my-service1 (twice)', 'IST0118 PortNameIsNotUnderNamingConvention Service my-namespace2/my-service2'],
    judges: ['TM308'],
    tunnelmesh: [],
    notes: ['port naming: tunnelmesh judges it only for Service ports a tunnel reaches (TM308); this file has no tunnel, so no finding by design'],
  },
  {
    file: 'pkg__config__analysis__analyzers__testdata__service-port-name.yaml',
    istioctl: [],
    judges: ['*'],
    tunnelmesh: [],
    notes: ['agree: nothing to report (a tcp- port, a waypoint and a managed gateway Service)'],
  },
  {
    file: 'pkg__config__analysis__analyzers__testdata__destinationrule-with-fake-host.yaml',
    istioctl: ['UnknownDestinationRuleHost DestinationRule default/fake-host'],
    judges: ['TM401'],
    tunnelmesh: ['TM401 DestinationRule default/fake-host'],
    notes: ['agree'],
  },
  {
    file: 'pkg__config__analysis__analyzers__testdata__destinationrule-subsets-not-select-pods.yaml',
    istioctl: ['IST0173 DestinationRuleSubsetNotSelectPods DestinationRule default/subsets-not-select-pods'],
    judges: ['TM405', 'TM401'],
    tunnelmesh: ['TM405 DestinationRule default/subsets-not-select-pods'],
    notes: ['agree (tunnelmesh also matches subsets against Deployment pod templates; istioctl only against Pods)'],
  },
  {
    file: 'pkg__config__analysis__analyzers__testdata__destinationrule-mutual-destination.yaml',
    istioctl: ['IST0128 NoServerCertificateVerificationDestinationLevel DestinationRule db-mtls'],
    judges: ['TM401'],
    tunnelmesh: ['TM401 DestinationRule default/db-mtls'],
    notes: [
      'IST0128 (MUTUAL without caCertificates) is about server certificate verification, which tunnelmesh does not judge',
      'TM401: host mydbserver.prod.svc.cluster.local names no Service in the input; istioctl analyze runs every analyzer and reports UnknownDestinationRuleHost on it as well (the test grid runs one analyzer per file)',
    ],
  },
  {
    file: 'pkg__config__analysis__analyzers__testdata__misannotated.yaml',
    istioctl: [
      'IST0108 UnknownAnnotation Service httpbin',
      'IST0125 InvalidAnnotation Pod invalid-annotations',
      'IST0107 MisplacedAnnotation Pod grafana-test',
      'IST0107 MisplacedAnnotation Deployment fortio-deploy',
      'IST0107 MisplacedAnnotation Namespace staging',
      'IST0135 DeprecatedAnnotation Deployment fortio-deploy',
    ],
    judges: ['TM105', 'TM108'],
    tunnelmesh: ['TM105 Deployment staging/fortio-deploy', 'TM105 Service staging/httpbin'],
    ignore: ['TM105 Ingress staging/gateway'],
    notes: [
      'agree on Service httpbin (unknown networking.istio.io/exportThree) and Deployment fortio-deploy (a pod annotation on the Deployment\'s own metadata)',
      'istio.io/ingress.class on the Ingress (the file calls it invalid, istioctl reports nothing): how TM105 treats that key is pinned by its own tests, not compared here',
      'IST0107 on Pod grafana-test and Namespace staging is about kubernetes.io/ingress.class, outside the istio.io domain TM105 covers; IST0125 is a readiness-probe value, which tunnelmesh does not validate',
      'the capture annotations on annotation-set-by-default and anno-not-set-by-default are valid values: TM108 agrees with istioctl that they are fine',
    ],
  },
  {
    file: 'pilot__pkg__serviceregistry__ambient__testdata__peer-authn-strict-and-disable-port-mtls-in.yaml',
    istioctl: [],
    judges: ['TM106', 'TM107', 'TM404', 'TM405'],
    tunnelmesh: ['TM405 PeerAuthentication default/strict-and-disable-mtls'],
    notes: ['a valid workload policy (selector, portLevelMtls 9090) whose selector app=a matches no pod in this one-object input: TM405 (info); no analyzer in istioctl\'s test grid judges PeerAuthentication selectors'],
  },
];

describe('corpus: tunnelmesh and istioctl analyze on Istio\'s analyzer inputs', { skip: !present && 'corpus not found' }, () => {
  for (const a of AGREEMENTS) {
    it(`${a.file}: ${a.notes[0]}`, () => {
      const found = run([text(ISTIO, a.file)])
        .filter((f) => a.judges.includes('*') || a.judges.includes(f.code))
        .map((f) => `${f.code} ${formatRef(f.resource)}`)
        .filter((f) => !a.ignore?.includes(f))
        .sort();
      assert.deepEqual(found, [...a.tunnelmesh].sort(), `istioctl reports: ${a.istioctl.join('; ') || 'nothing'}\nnotes:\n- ${a.notes.join('\n- ')}`);
    });
  }
});

/**
 * The rules the Cloudflare operator writes for its samples, derived by hand from its controllers
 * (StringKe/cloudflare-operator 8631b11: tunnelbinding_controller.go getConfigForSubject and
 * configureCloudflareDaemon, the CRD defaults of tunnelbindings; gateway/gateway_controller.go
 * buildIngressRules, convertHTTPRouteToRules, resolveHTTPBackendRef; route/path.go,
 * route/protocol.go; tunnelconfig AggregateRules). No tunnel config is in the input, so these
 * are predicted: `hostname path → service {originRequest} (priority)`, in the order cloudflared
 * evaluates them, the operator's http_status:404 catch-all last.
 */
function predictedRules(texts: NamedText[]): Record<string, string[]> {
  const model = new MeshModel(collectFromTexts([...texts])); // collectFromTexts empties the entries it read
  const out: Record<string, string[]> = {};
  for (const t of model.tunnels.filter((x) => x.predicted)) {
    out[t.label] = t.rules.map((r) => `${r.hostname ?? '*'}${r.path ? ` ${r.path}` : ''} → ${r.service}${r.originRequest ? ` ${JSON.stringify(r.originRequest)}` : ''}${r.priority !== undefined ? ` (${r.priority})` : ''}`);
  }
  return out;
}

/** A Service the tutorial deploys elsewhere (our own, not a corpus file): port 80. */
function tutorialService(name: string, ns: string): NamedText {
  return { name: `service-${name}.yaml`, text: jsyaml.dump({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector: { app: name }, ports: [{ port: 80 }] } }) };
}

describe('corpus: the rules the operator writes for its TunnelBinding and Gateway API samples', { skip: !present && 'corpus not found' }, () => {
  it('config/samples TunnelBinding: spec.target as written; caPool not carried; the CRD defaults proxyAddress; priority 50', () => {
    const texts = [text(OPERATOR, 'config__samples__networking_v1alpha1_tunnelbinding.yaml')];
    assert.deepEqual(predictedRules(texts), {
      'ClusterTunnel clustertunnel-sample': ['whoami-test.example.com → http://svc-1.namespace.cluster.local:8080 {"proxyAddress":"127.0.0.1"} (50)', '* → http_status:404'],
    });
    const model = new MeshModel(collectFromTexts([...texts]));
    assert.match(model.operator.written[0]?.dropped.join() ?? '', /caPool custom/);
  });

  it('tunnel-binding-with-reverse-proxy: a wildcard fqdn to ingress-nginx, noTlsVerify written', () => {
    const texts = ['docs__examples__tunnel-binding-with-reverse-proxy__manifests__cloudflare-operator__tunnel-binding.yaml', 'docs__examples__tunnel-binding-with-reverse-proxy__manifests__cloudflare-operator__cluster-tunnel.yaml'].map((f) => text(OPERATOR, f));
    assert.deepEqual(predictedRules(texts), {
      'ClusterTunnel example-tunnel': ['*.<domain> → http://ingress-nginx-controller.ingress-nginx.svc.cluster.local:80 {"noTLSVerify":true,"proxyAddress":"127.0.0.1"} (50)', '* → http_status:404'],
    });
  });

  it('tunnel-binding-simple: subjects without fqdn get <name>.<ClusterTunnel domain>; no spec, so no originRequest; the first Service port, http', () => {
    const texts = [
      ...['docs__examples__tunnel-binding-simple__manifests__cloudflare-operator__tunnel-binding.yaml', 'docs__examples__tunnel-binding-simple__manifests__cloudflare-operator__cluster-tunnel.yaml'].map((f) => text(OPERATOR, f)),
      tutorialService('whoami-1', 'default'),
      tutorialService('whoami-2', 'default'),
    ];
    assert.deepEqual(predictedRules(texts), {
      'ClusterTunnel k3s-cluster-tunnel': ['whoami-1.example.com → http://whoami-1.default.svc:80 (50)', 'whoami-2.example.com → http://whoami-2.default.svc:80 (50)', '* → http_status:404'],
    });
    // Without its Services the rule is not known (it depends on their first port): said, not guessed.
    const alone = new MeshModel(collectFromTexts(texts.slice(0, 2)));
    assert.ok(alone.operator.written.length === 2);
    assert.deepEqual(alone.tunnels, []);
    assert.match(alone.operator.written[0]?.unserved ?? '', /Service default\/whoami-1 is not in the input/);
  });

  it('the examples that nest subjects under spec: (networking.cfargotunnel.com) are refused by the API server: no rule', () => {
    for (const f of ['examples__01-basic__service-binding__tunnel-binding.yaml', 'examples__scenarios__web-app-exposure__tunnel-binding.yaml']) {
      const texts = [text(OPERATOR, f), text(OPERATOR, 'examples__scenarios__web-app-exposure__app-deployment.yaml')];
      const model = new MeshModel(collectFromTexts([...texts]));
      assert.deepEqual(predictedRules(texts), {}, f);
      assert.match(model.operator.bindings[0]?.unserved ?? '', /under spec:/, f);
      assert.equal(model.operator.bindings[0]?.flavour, 'adyanth', `${f}: networking.cfargotunnel.com is adyanth's group`);
    }
  });

  it('Gateway API: the HTTPRoutes of Gateway default/production, sorted by hostname then path (PathPrefix / is no path), http (no Service in the input), an empty originRequest', () => {
    const texts = files(OPERATOR).filter((f) => /gateway_v1_|tunnelgatewayclassconfig/.test(f)).map((f) => text(OPERATOR, f));
    const rules = predictedRules(texts)['ClusterTunnel production-tunnel'] ?? [];
    // Go's sort.Slice is not stable: the two path-less rules of api.example.com may come in either order.
    assert.deepEqual(rules.slice(0, 2).sort(), ['api.example.com → http://api-canary.default.svc:8080 {} (100)', 'api.example.com → http://api-v2.default.svc:8080 {} (100)']);
    assert.deepEqual(rules.slice(2), [
      'api.example.com /v1(/.*)?$ → http://api-v1.default.svc:8080 {} (100)',
      'api.example.com /v2(/.*)?$ → http://api-v2.default.svc:8080 {} (100)',
      'app.example.com → http://web-frontend.default.svc:80 {} (100)',
      'www.example.com → http://web-frontend.default.svc:80 {} (100)',
      '* → http_status:404',
    ]);
  });

  it('Gateway API samples: what the operator makes of them (routes shadowed by the empty path and the dropped header match; two Gateways on one class config)', () => {
    const texts = files(OPERATOR).filter((f) => /gateway_v1_|tunnelgatewayclassconfig/.test(f)).map((f) => text(OPERATOR, f));
    const found = serious(run(texts)).map((f) => `${f.code} ${formatRef(f.resource)}`).sort();
    assert.deepEqual(found, [
      // "" sorts before /v1 and /v2: rules[2]'s PathPrefix / takes every request of api.example.com.
      'TM309 HTTPRoute default/api-route',
      'TM309 HTTPRoute default/api-route',
      // The operator writes hostname and path only: the X-Beta-User match is dropped, two path-less rules collide.
      'TM309 HTTPRoute default/header-based-route',
      // production and shared-gateway both write source HTTPRoute/cloudflare-operator-system/cloudflare-tunnel-config.
      'TM311 TunnelGatewayClassConfig cloudflare-operator-system/cloudflare-tunnel-config',
    ]);
  });
});
