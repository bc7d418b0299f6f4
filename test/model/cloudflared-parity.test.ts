// cloudflared's ingress package, point by point: Go's url.Parse on service URLs, bastionMode,
// socks-proxy ipRules, punycode aliases, Go (RE2) path regexps matched on the decoded path, and a
// config.yaml written in JSON syntax. Cases follow ingress_test.go / rule_test.go behaviours.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findMatchingRule, matchHost, serviceKind, validateRules } from '../../src/model/cloudflared.js';
import { goRegexpMatches, goRegexpProblem } from '../../src/model/goregexp.js';
import { decodeRequestPath, parseGoUrl } from '../../src/model/gourl.js';
import { punycodeAlias } from '../../src/model/hostnames.js';
import { parseOriginUrl, type TunnelRule } from '../../src/model/tunnels.js';
import { parseCloudflaredYaml } from '../../src/core/wellknown.js';

function rules(...list: Array<Partial<TunnelRule>>): TunnelRule[] {
  return list.map((r, index) => ({ index, service: 'http_status:404', ...r }));
}

const problem = (service: string, o?: Record<string, unknown>, g?: Record<string, unknown>): string | undefined => {
  const k = serviceKind(service, o, g);
  return k.kind === 'invalid' ? k.problem : undefined;
};

describe("service URLs through Go's url.Parse", () => {
  it('a space in the host is refused, with Go’s message', () =>
    assert.equal(problem('http://my service:80'), 'parse "http://my service:80": invalid character " " in host name'));
  it('other characters Go refuses in a host', () => {
    assert.match(problem('http://web{1}:80') ?? '', /invalid character "\{" in host name/);
    assert.match(problem('http://web%41:80') ?? '', /invalid URL escape "%41"/); // ASCII cannot be %-escaped in a host
    assert.match(problem('http://web:8o') ?? '', /invalid port ":8o" after host/);
    assert.match(problem('http://[web.local]:80') ?? '', /invalid IP-literal/);
    assert.match(problem('http://web/%zz') ?? '', /invalid URL escape "%zz"/);
    assert.match(problem('http://web\u0001:80') ?? '', /invalid control character in URL/);
  });
  it('what Go accepts though WHATWG URL would not, or reads differently', () => {
    assert.equal(problem('http://web:99999'), undefined); // a port out of range parses; dialing fails later
    assert.equal(problem('http://user:pw@web.app.svc:80'), undefined);
    assert.equal(problem('http://web.app.svc:80?x=1#top'), undefined); // query and fragment are not a path
    assert.equal(problem('http://[fd00::1]:8080'), undefined);
    assert.equal(parseOriginUrl('http://user@web.app.svc:8080')?.host, 'web.app.svc');
    assert.equal(parseOriginUrl('http://[fd00::1]:8080')?.host, 'fd00::1');
  });
  it('no scheme, no host, a path: cloudflared’s own messages', () => {
    assert.match(problem('http:web') ?? '', /http:web is an invalid address, please make sure it has a scheme and a hostname/);
    assert.match(problem('http://:80') ?? '', /scheme and a hostname/);
    assert.match(problem('http://web:80/x') ?? '', /different path/);
    assert.match(problem('://web') ?? '', /missing protocol scheme/);
  });
  it('parseGoUrl lower-cases the scheme and keeps the host as written', () => {
    const r = parseGoUrl('HTTP://Web.App:81');
    assert.ok(r.ok);
    assert.deepEqual([r.url.scheme, r.url.hostname, r.url.port], ['http', 'Web.App', '81']);
  });
});

describe('special services', () => {
  it('a rule with originRequest.bastionMode and no service is a bastion, valid', () => {
    assert.deepEqual(validateRules(rules({ hostname: 'ssh.example.com', service: '', originRequest: { bastionMode: true } }, {})), []);
    assert.equal(serviceKind('', { bastionMode: true }).kind, 'special');
  });
  it('the config-wide bastionMode makes every URL rule a bastion; a rule can switch it off', () => {
    assert.equal(serviceKind('http://web:80', undefined, { bastionMode: true }).kind, 'special');
    assert.equal(serviceKind('http://web:80', { bastionMode: false }, { bastionMode: true }).kind, 'http');
    assert.equal(serviceKind('http_status:404', undefined, { bastionMode: true }).kind, 'special');
  });
  it('without bastionMode an empty service is still refused', () =>
    assert.match(validateRules(rules({ hostname: 'a.example.com', service: '' }, {}))[0]?.message ?? '', /Rule #1/));
  it('hello_world and hello-world only; helloworld is a URL without a scheme', () => {
    assert.equal(serviceKind('hello-world').kind, 'special');
    assert.match(problem('helloworld') ?? '', /scheme and a hostname/);
  });
  it('http_status: strconv.Atoi’s message', () => assert.equal(problem('http_status:abc'), 'invalid HTTP status code: strconv.Atoi: parsing "abc": invalid syntax'));
  it('socks-proxy ipRules: a prefix net.ParseCIDR refuses, a missing prefix, a port out of range', () => {
    assert.equal(problem('socks-proxy', { ipRules: [{ prefix: '10.0.0.0/8', ports: [80, 443], allow: true }, { prefix: 'fd00::/8' }] }), undefined);
    assert.equal(problem('socks-proxy', { ipRules: [{ prefix: '10.0.0.0/33' }] }), 'unable to create ip rule for socks-proxy: unable to parse cidr: 10.0.0.0/33');
    assert.match(problem('socks-proxy', { ipRules: [{ prefix: '010.0.0.0/8' }] }) ?? '', /unable to parse cidr/);
    assert.match(problem('socks-proxy', { ipRules: [{ prefix: '10.0.0.1' }] }) ?? '', /unable to parse cidr/);
    assert.match(problem('socks-proxy', { ipRules: [{ allow: true }] }) ?? '', /no prefix provided/);
    assert.match(problem('socks-proxy', { ipRules: [{ prefix: '10.0.0.0/8', ports: [0] }] }) ?? '', /invalid port 0, needs to be between 1 and 65535/);
  });
  it('access: teamName is required with audTag only when access is required', () => {
    assert.deepEqual(validateRules(rules({ hostname: 'a.example.com', service: 'http://a:80', originRequest: { access: { audTag: ['x'] } } }, {})), []);
    assert.match(validateRules(rules({ hostname: 'a.example.com', service: 'http://a:80', originRequest: { access: { required: true, audTag: ['x'] } } }, {}))[0]?.message ?? '', /TeamName cannot be blank/);
  });
});

describe('hostnames: the punycode alias', () => {
  it('a Unicode hostname is also matched on its punycode form', () => {
    assert.equal(punycodeAlias('bücher.example.com'), 'xn--bcher-kva.example.com');
    assert.ok(matchHost('bücher.example.com', 'xn--bcher-kva.example.com'));
    const list = rules({ hostname: 'bücher.example.com', service: 'http://books:80' }, {});
    assert.equal(findMatchingRule(list, 'xn--bcher-kva.example.com', '/')?.service, 'http://books:80');
  });
  it('Lookup lower-cases: an upper-case rule hostname matches the lower-case request', () => assert.ok(matchHost('API.example.com', 'api.example.com')));
  it('no alias where Go’s Lookup profile fails (STD3: `*`, `_`; hyphens)', () => {
    assert.equal(punycodeAlias('*.bücher.example.com'), undefined);
    assert.equal(punycodeAlias('a_b.example.com'), undefined);
    assert.equal(punycodeAlias('-a.example.com'), undefined);
    assert.equal(punycodeAlias('api.example.com'), undefined); // the same: no alias
    assert.ok(!matchHost('*.bücher.example.com', 'a.xn--bcher-kva.example.com'));
  });
});

describe('paths are Go (RE2) regexps', () => {
  it('(?i) and POSIX classes are valid and mean what Go says', () => {
    assert.equal(goRegexpProblem('(?i)^/api'), undefined);
    assert.ok(goRegexpMatches('(?i)^/api', '/API/v1'));
    assert.ok(goRegexpMatches('^/[[:alpha:]]+$', '/abc'));
    assert.ok(!goRegexpMatches('^/[[:alpha:]]+$', '/:')); // JavaScript reads [[:alpha:]] as a class of the characters [:alph
    assert.ok(goRegexpMatches('^/\\pL+$', '/bücher'));
  });
  it('what JavaScript accepts and Go refuses', () => {
    assert.equal(goRegexpProblem('(?=x)'), 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`');
    assert.equal(goRegexpProblem('(x)\\1'), 'error parsing regexp: invalid escape sequence: `\\1`');
    assert.equal(goRegexpProblem('a{2,1001}'), 'error parsing regexp: invalid repeat count: `{2,1001}`');
    assert.equal(goRegexpProblem('x++'), 'error parsing regexp: invalid nested repetition operator: `++`');
  });
  it('a refused path makes cloudflared refuse the config, with Go’s text', () =>
    assert.equal(validateRules(rules({ hostname: 'a.example.com', path: '(?=x)', service: 'http://a:80' }, {}))[0]?.message, 'Rule #1 has an invalid regex: error parsing regexp: invalid or unsupported Perl syntax: `(?=`'));
  it('matching is on the decoded request path', () => {
    assert.equal(decodeRequestPath('/a%20b/%C3%BC'), '/a b/ü');
    assert.equal(decodeRequestPath('/a+b'), '/a+b');
    const list = rules({ hostname: 'a.example.com', path: '^/files/a b$', service: 'http://files:80' }, {});
    assert.equal(findMatchingRule(list, 'a.example.com', decodeRequestPath('/files/a%20b'))?.service, 'http://files:80');
  });
});

describe('a config.yaml written in JSON syntax', () => {
  it('is read as a tunnel config (YAML is a superset of JSON, and cloudflared reads it as YAML)', () => {
    const parsed = parseCloudflaredYaml('{\n  "tunnel": "main",\n  "ingress": [\n    {"hostname": "a.example.com", "service": "http://a:80"},\n    {"service": "http_status:404"}\n  ]\n}\n');
    assert.ok(parsed && 'ingress' in parsed);
    assert.equal(parsed.ingress.length, 2);
    assert.equal(parsed.tunnel, 'main');
  });
  it('a JSON document with no ingress list is not one', () => assert.equal(parseCloudflaredYaml('{"ingress": {"enabled": true}}'), undefined));
});

describe('explain-protocol URL targets match like cloudflared', () => {
  it('a Unicode URL reaches the rule by its punycode alias, and the path is matched decoded', async () => {
    const { parseTarget } = await import('../../src/cli/explain-protocol.js');
    const { selectForUrl } = await import('../../src/model/backends.js');
    const { judge } = await import('../../src/rules/judge.js');
    const { snapshotOf } = await import('../support/rule-tester.js');
    const { cloudflaredConfigMap, namespace } = await import('../support/build.js');
    const j = judge(snapshotOf([namespace('edge'), cloudflaredConfigMap('edge', 'cf', [{ hostname: 'bücher.example.com', path: '^/files/a b$', service: 'http://files.edge:80' }, { service: 'http_status:404' }])]));
    const backendsForUrl = (_m: unknown, host: string, path: string) => selectForUrl(j.model, j.backends, host, path).map((s) => s.backend.view);
    const m = j.model;
    const target = parseTarget('https://bücher.example.com/files/a%20b');
    assert.ok(target.kind === 'url');
    assert.equal(target.host, 'xn--bcher-kva.example.com');
    assert.deepEqual(backendsForUrl(m, target.host, target.path).map((v) => v.rule?.service), ['http://files.edge:80']);
    assert.deepEqual(backendsForUrl(m, target.host, '/files/other').map((v) => v.rule?.service), []);
  });
});
