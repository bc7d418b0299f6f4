import assert from 'node:assert/strict';
import { it } from 'node:test';
import { pathShape, pathSubsumes, tm309 } from '../../src/rules/catalog/tm309-tunnel-rule-shadowed.js';
import { testRule } from '../support/rule-tester.js';
import { viaConfig, viaOperator } from '../support/tunnel-scenarios.js';

const host = 'web.example.com';
const catchAll = { service: 'http_status:404' };
const ports = [{ name: 'http', port: 80 }];

it('path subsumption: sufficient conditions on the shapes the operator and people write', () => {
  const s = (a: string | undefined, b: string | undefined) => pathSubsumes(pathShape(a), pathShape(b));
  assert.equal(s(undefined, '/api'), true);
  assert.equal(s('/api', undefined), false);
  assert.equal(s('/api(/.*)?$', '/api/v1(/.*)?$'), true);
  assert.equal(s('/api(/.*)?$', '/apiv2(/.*)?$'), false);
  assert.equal(s('/api(/.*)?$', '^/api$'), true);
  assert.equal(s('/api/.*', '/api/v1(/.*)?$'), true);
  assert.equal(s('^/api$', '^/api$'), true);
  assert.equal(s('^/api$', '/api(/.*)?$'), false);
  assert.equal(s('^/api', '^/api/v1$'), true);
  assert.equal(s('/api', '/x/api/y'), true);
  assert.equal(s('/a[bc]', '/a[bc]'), true);
  assert.equal(s('/a[bc]', '/ab'), false);
});

testRule(tm309, {
  valid: [
    {
      name: 'specific rule first in a hand-written config',
      objects: viaConfig([{ hostname: host, path: '^/api', service: 'http://web.app:80' }, { hostname: host, service: 'http://web.app:80' }, catchAll], { ports }),
    },
    { name: 'different hostnames', objects: viaOperator([{ host, path: '/', service: 'web', port: 80 }, { host: 'api.example.com', path: '/api', service: 'web', port: 80 }], { ports }) },
    { name: 'disjoint paths on one host', objects: viaOperator([{ host, path: '/a', service: 'web', port: 80 }, { host, path: '/b', service: 'web', port: 80 }], { ports }) },
    {
      name: 'a case-sensitive prefix does not cover a (?i) one',
      objects: viaConfig([{ hostname: host, path: '^/api', service: 'http://web.app:80' }, { hostname: host, path: '(?i)^/api/v1', service: 'http://web.app:80' }, catchAll], { ports }),
    },
  ],
  invalid: [
    {
      name: "the operator puts `/` (no path) first on its hostname: every other path is dead",
      objects: viaOperator(
        [
          { host, path: '/', service: 'web', port: 80 },
          { host, path: '/api', service: 'web', port: 80 },
        ],
        { ports },
      ),
      findings: [
        {
          resource: 'Ingress app/web',
          port: 80,
          message: ['#1 web.example.com path /api(/.*)?$', 'rule #0 web.example.com → http://web.app.svc:80 comes first', 'by path string'],
          fixes: [{ title: 'Serve web.example.com /api under its own hostname web-web.example.com', yaml: ['host: web-web.example.com', 'path: /api'] }],
        },
      ],
    },
    {
      name: 'the operator puts /api before /api/v1 (path string order)',
      objects: viaOperator(
        [
          { host, path: '/api/v1', service: 'web', port: 80 },
          { host, path: '/api', service: 'web', port: 80 },
        ],
        { ports },
      ),
      findings: [{ resource: 'Ingress app/web', port: 80, message: '#1 web.example.com path /api/v1(/.*)?$' }],
    },
    {
      name: 'a hand-written config with the broad rule first: the fix moves the specific one up',
      objects: viaConfig([{ hostname: host, service: 'http://web.app:80' }, { hostname: host, path: '/api', service: 'http://web.app:80' }, catchAll], { ports }),
      findings: [{ resource: 'ConfigMap edge/cloudflared', fixes: [{ title: 'Move rule #1 web.example.com path /api → http://web.app:80 before rule #0' }] }],
    },
    {
      name: 'a wildcard rule takes a later exact hostname',
      objects: viaConfig([{ hostname: '*.example.com', service: 'http://web.app:80' }, { hostname: host, service: 'http://web.app:80' }, catchAll], { ports }),
      findings: [{ resource: 'ConfigMap edge/cloudflared', message: 'rule #0 *.example.com' }],
    },
    {
      name: 'a Unicode hostname and its punycode form are one host for cloudflared: the later rule never matches',
      objects: viaConfig([{ hostname: 'bücher.example.com', service: 'http://web.app:80' }, { hostname: 'xn--bcher-kva.example.com', service: 'http://web.app:80' }, catchAll], { ports }),
      findings: [{ resource: 'ConfigMap edge/cloudflared', message: 'Tunnel rule #1 xn--bcher-kva.example.com → http://web.app:80' }],
      fixResolves: false,
    },
    {
      name: 'a case-insensitive (?i) prefix before the same prefix in capitals',
      objects: viaConfig([{ hostname: host, path: '(?i)^/api', service: 'http://web.app:80' }, { hostname: host, path: '^/API/v1', service: 'http://web.app:80' }, catchAll], { ports }),
      findings: [{ resource: 'ConfigMap edge/cloudflared', message: 'Tunnel rule #1 web.example.com path ^/API/v1' }],
      fixResolves: false,
    },
  ],
});
