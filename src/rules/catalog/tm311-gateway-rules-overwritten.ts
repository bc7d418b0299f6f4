// TM311: several Gateways of the Cloudflare operator share one TunnelGatewayClassConfig, and each
// reconcile replaces the others' rules (gateway_controller.go syncTunnelConfigToAPI writes the
// source `HTTPRoute/<config ns>/<config name>`, keyed by the class config, not by the Gateway).

import type { HTTPRoute, KObject } from '../../core/k8s.js';
import type { MeshModel } from '../../model/model.js';
import type { GatewayRules } from '../../model/operator-sources.js';
import { editable, where } from '../fixes.js';
import { listing } from '../edge-hits.js';
import { kinds, TUNNELS } from '../inputs.js';
import type { Fix, FindingDraft, Rule } from '../types.js';
import { toYaml } from '../yaml.js';

function label(o: KObject): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}

/** Attach every HTTPRoute of the other Gateways to the one that keeps its rules: then one Gateway writes them all. */
function mergeFix(model: MeshModel, keep: GatewayRules, others: GatewayRules[]): Fix | undefined {
  const gw = keep.chain.gateway;
  const routes = new Map<HTTPRoute, true>();
  for (const g of others) for (const r of g.rules) routes.set(r.writer as HTTPRoute, true);
  for (const r of keep.rules) routes.delete(r.writer as HTTPRoute);
  if (routes.size === 0) return undefined;
  const docs = [...routes.keys()].map((route) => {
    const edited = editable(route);
    edited.spec.parentRefs = [
      ...(edited.spec.parentRefs ?? []).filter((p) => !others.some((g) => p.name === g.chain.gateway.metadata.name && (p.namespace ?? route.metadata.namespace) === g.chain.namespace)),
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: gw.metadata.name, namespace: gw.metadata.namespace as string },
    ];
    return edited;
  });
  const first = [...routes.keys()][0] as HTTPRoute;
  return {
    title: `Attach ${listing(docs.map((d) => `HTTPRoute ${label(d)}`))} to Gateway ${label(gw)}${where(model, first)}`,
    yaml:
      [
        `the operator keeps one Gateway's rules per TunnelGatewayClassConfig: with every route on Gateway ${label(gw)}, it writes them all`,
        `cross-namespace routes need Gateway ${label(gw)} to allow them (listeners[].allowedRoutes.namespaces.from)`,
        'apply with: kubectl apply -f <this file>',
      ]
        .map((c) => `# ${c}\n`)
        .join('') + docs.map((d) => toYaml(d)).join('---\n'),
    target: { kind: 'HTTPRoute', namespace: first.metadata.namespace as string, name: first.metadata.name },
  };
}

/**
 * Give the other Gateways a class of their own: per Gateway, a copy of the GatewayClass naming a
 * copy of the TunnelGatewayClassConfig (same tunnel, its own source key), and the Gateway moved to it.
 */
function ownClassFix(model: MeshModel, moving: GatewayRules[]): Fix | undefined {
  const docs: KObject[] = [];
  for (const g of moving) {
    const { gateway, gatewayClass, config } = g.chain;
    if (!gatewayClass || !config) return undefined;
    const name = `${config.metadata.name}-${gateway.metadata.name}`.slice(0, 63).replace(/-+$/, '');
    const newConfig = editable(config);
    newConfig.metadata = { name, namespace: config.metadata.namespace as string };
    const newClass = editable(gatewayClass);
    newClass.metadata = { name: `${gatewayClass.metadata.name}-${gateway.metadata.name}`.slice(0, 63).replace(/-+$/, '') };
    newClass.spec = { ...newClass.spec, parametersRef: { ...(newClass.spec.parametersRef ?? {}), name } };
    const moved = editable(gateway);
    moved.spec = { ...moved.spec, gatewayClassName: newClass.metadata.name };
    docs.push(newConfig, newClass, moved);
  }
  const first = moving[0]?.chain.gateway;
  if (!first) return undefined;
  return {
    title: `Give ${listing(moving.map((g) => `Gateway ${label(g.chain.gateway)}`))} a GatewayClass and TunnelGatewayClassConfig of ${moving.length === 1 ? 'its' : 'their'} own${where(model, first)}`,
    yaml:
      [
        'the operator writes one source per TunnelGatewayClassConfig: with one of its own, a Gateway stops replacing the other Gateways\' rules (same tunnel, another source key)',
        'if the API server refuses to change spec.gatewayClassName, delete the Gateway and create it again with the new class; a Gateway that attaches no route can simply be deleted',
        'apply with: kubectl apply -f <this file>',
      ]
        .map((c) => `# ${c}\n`)
        .join('') + docs.map((d) => toYaml(d)).join('---\n'),
    target: { kind: 'Gateway', namespace: first.metadata.namespace as string, name: first.metadata.name },
  };
}

export const tm311: Rule = {
  meta: {
    code: 'TM311',
    name: 'gateway-rules-overwritten',
    severity: 'warning',
    summary: "Several Gateways of the Cloudflare operator share one TunnelGatewayClassConfig: each reconcile replaces the others' rules, so only the routes of the Gateway reconciled last are served.",
    description:
      "The operator's gateway controller writes a Gateway's HTTPRoute rules into the tunnel config under one source key per TunnelGatewayClassConfig " +
      '(HTTPRoute/<config namespace>/<config name>), not per Gateway. Two Gateways of one GatewayClass (or of two classes with the same parameters) take turns: the one ' +
      'reconciled last wins, and the hostnames of the others stop answering (404) until their Gateway reconciles again, then the first ones do.',
    howToFix:
      'Attach every HTTPRoute of that class config to one Gateway, or give each Gateway its own GatewayClass and TunnelGatewayClassConfig; delete Gateways that attach no route.',
    inputs: kinds(TUNNELS, 'Service'),
  },
  check({ model }) {
    const findings: FindingDraft[] = [];
    for (const { config, gateways } of model.operator.sharedGatewaySources) {
      const names = gateways.map((g) => `Gateway ${label(g.chain.gateway)} (${g.rules.length} rule${g.rules.length === 1 ? '' : 's'})`);
      const withRules = gateways.filter((g) => g.rules.length > 0);
      if (withRules.length === 0) continue; // nothing to lose yet
      const keep = [...withRules].sort((a, b) => b.rules.length - a.rules.length)[0];
      // Keep the class for the Gateway with the most rules; every other one gets a class of its own.
      const fixes: Fix[] = [];
      const others = gateways.filter((g) => g !== (keep ?? gateways[0]));
      const own = ownClassFix(model, others);
      if (own) fixes.push(own);
      if (keep && withRules.length > 1) {
        const merged = mergeFix(model, keep, withRules.filter((g) => g !== keep));
        if (merged) fixes.push(merged);
      }
      const lost = withRules.flatMap((g) => g.rules.map((r) => r.hostname).filter(Boolean));
      findings.push({
        resource: { kind: 'TunnelGatewayClassConfig', namespace: config.metadata.namespace as string, name: config.metadata.name },
        message: `${listing(names)} all write their rules under source HTTPRoute/${label(config)} of TunnelGatewayClassConfig ${label(config)}: each reconcile replaces the others', so only the last Gateway reconciled keeps its routes.`,
        symptom: `${lost.length ? `hostnames such as ${listing([...new Set(lost)].slice(0, 3))}` : 'the routes'} answer 404 from the tunnel's catch-all whenever another Gateway of the class reconciled last (it flips on operator restarts and route changes)`,
        evidence: [
          ...gateways.map((g) => `${g.chain.label}: ${g.chain.evidence.join('; ')}; ${g.rules.length} rule${g.rules.length === 1 ? '' : 's'} from ${listing([...new Set(g.rules.map((r) => `HTTPRoute ${label(r.writer)}`))]) || 'no HTTPRoute'}`),
          'the gateway controller writes source HTTPRoute/<TunnelGatewayClassConfig namespace>/<name> (syncTunnelConfigToAPI), replacing what is there',
        ],
        fixes,
        namespaces: [config.metadata.namespace as string, ...gateways.map((g) => g.chain.namespace)],
        objects: [config, ...gateways.map((g) => g.chain.gateway)],
      });
    }
    return findings;
  },
};
