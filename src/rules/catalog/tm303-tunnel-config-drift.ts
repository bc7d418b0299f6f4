// TM303: the tunnel config's rule for an Ingress backend is not what the operator's chain resolves today.

import { ruleKey } from '../../model/edges.js';
import type { WrittenRule } from '../../model/operator-sources.js';
import { ruleEvidence } from '../edge-hits.js';
import { operatorConfigFix, operatorRule } from '../tunnel-fixes.js';
import { rerouting } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';
import { PODS, TUNNELS, kinds } from '../inputs.js';

/** The rule a TunnelBinding subject or HTTPRoute backend gets, as config.json holds it. */
function writtenRule(w: WrittenRule): Record<string, unknown> {
  return { ...(w.hostname ? { hostname: w.hostname } : {}), ...(w.path ? { path: w.path } : {}), service: w.service, ...(w.originRequest ? { originRequest: w.originRequest } : {}), priority: w.priority };
}

function sameHostPath(raw: Record<string, unknown>, host: string | undefined, path: string | undefined): boolean {
  return (raw.hostname ?? '') === (host ?? '') && (raw.path ?? '') === (path ?? '');
}

export const tm303: Rule = {
  meta: {
    code: 'TM303',
    name: 'tunnel-config-drift',
    severity: 'warning',
    summary:
      "The tunnel config's rule for an Ingress backend, TunnelBinding subject or HTTPRoute backend differs from what the operator writes for it today (scheme, host, port, TLS settings): stale or hand-edited.",
    description:
      'The Cloudflare operator rewrites its tunnel-config-<id> ConfigMap when it reconciles an Ingress. A rule that differs from what its protocol chain resolves from the ' +
      'Ingress, Service and TunnelIngressClassConfig as they are now was written by an older state (a reconcile that failed or has not run: see syncStatus and the operator ' +
      'logs) or edited by hand. The next reconcile replaces it, changing what the hostname reaches without anyone touching it.',
    howToFix:
      'Decide which is right. If the objects are, let the operator reconcile (or apply the ConfigMap the fix shows, which its tunnel-config controller pushes); ' +
      'if the config is, change the Ingress (annotation cloudflare.com/protocol-<port>, backend port) or the Service so the chain resolves the same.',
    inputs: kinds(TUNNELS, 'Service', PODS),
  },
  check({ model }) {
    const findings: FindingDraft[] = [];
    for (const b of model.operator.backends) {
      if (!b.driftChecked || b.drift.length === 0) continue;
      const tunnel = b.coveringConfig;
      const ticc = b.classConfig?.config;
      const source = ticc ? { kind: 'Ingress', namespace: ticc.metadata.namespace as string, name: ticc.metadata.name } : undefined;
      const fixes: Fix[] = [];
      const expected = operatorRule(b);
      if (tunnel && source) {
        const fix = operatorConfigFix(
          model,
          tunnel,
          source,
          (rules) => {
            const at = rules.findIndex((r) => sameHostPath(r, b.host, b.rulePath));
            if (at >= 0) rules[at] = expected;
            else rules.push(expected);
          },
          `Write the rule the operator resolves for ${b.host}${b.rulePath ? ` ${b.rulePath}` : ''} (${b.url})`,
          [`what the operator writes for ${b.label} on its next reconcile; if the config is the intended state, change the Ingress or Service instead`],
        );
        if (fix) fixes.push(rerouting(fix));
      }
      const missing = !b.rule;
      findings.push({
        resource: { kind: 'Ingress', namespace: b.namespace, name: b.ingress.metadata.name },
        port: b.port.port,
        message: missing
          ? `The tunnel config has no rule for ${b.label} ${b.host}${b.path ? ` ${b.path}` : ''}, for which the operator's chain resolves ${b.url}: the hostname is not served.`
          : `The tunnel config's rule for ${b.label} ${b.host}${b.path ? ` ${b.path}` : ''} is ${b.rule?.service}, but the operator's chain resolves ${b.url} today (${b.drift.map((d) => d.split(':')[0]).join(', ')} differ).`,
        symptom: missing
          ? 'the hostname answers with the catch-all (404) until the operator writes the rule'
          : 'the hostname works as the config says until the next reconcile of the Ingress rewrites the rule, then it changes without a change to the Ingress',
        evidence: [
          ...(b.rule && b.tunnel ? ruleEvidence(b.tunnel, b.rule) : []),
          `operator protocol chain for ${b.label} port ${b.port.port}: level ${b.chain?.level ?? '?'} decides ${b.chain?.protocol ?? '?'} (${b.chain?.source ?? 'no chain'})`,
          `port: ${b.port.evidence}`,
          ...b.drift.map((d) => `drift: ${d}`),
          ...(tunnel?.syncStatus ? [`${tunnel.label} syncStatus: ${tunnel.syncStatus}`] : []),
        ],
        fixes,
        namespaces: [b.namespace, ...(tunnel ? [tunnel.namespace] : [])],
        objects: [b.ingress, ...(tunnel ? [tunnel.object] : [])],
        edges: b.rule && b.tunnel ? [ruleKey(b.tunnel, b.rule)] : [],
      });
    }
    // TunnelBinding subjects and HTTPRoute backends: the same comparison, with what their controllers write.
    for (const w of model.operator.written) {
      if (!w.driftChecked || w.drift.length === 0 || !w.config) continue;
      const tunnel = w.config;
      const [kind, ns, name] = w.sourceKey.split('/') as [string, string, string];
      const expected = writtenRule(w);
      const fix = operatorConfigFix(
        model,
        tunnel,
        { kind, namespace: ns, name },
        (rules) => {
          const at = rules.findIndex((r) => sameHostPath(r, w.hostname || undefined, w.path) && (w.rule === undefined || r.service === w.rule.service));
          if (at >= 0) rules[at] = expected;
          else rules.push(expected);
        },
        `Write the rule the operator writes for ${w.hostname || '(no hostname)'}${w.path ? ` ${w.path}` : ''} (${w.service})`,
        [`what the operator writes for ${w.label} on its next reconcile; if the config is the intended state, change the ${w.writerKind} instead`],
      );
      const missing = !w.rule;
      findings.push({
        resource: { kind: w.writerKind, namespace: w.namespace, name: w.writer.metadata.name },
        ...(w.serviceRef?.port !== undefined ? { port: w.serviceRef.port } : {}),
        message: missing
          ? `The tunnel config has no rule for ${w.label} ${w.hostname || '(no hostname)'}${w.path ? ` ${w.path}` : ''}, for which the operator writes ${w.service}: the hostname is not served.`
          : `The tunnel config's rule for ${w.label} ${w.hostname || '(no hostname)'}${w.path ? ` ${w.path}` : ''} is ${w.rule?.service}, but the operator writes ${w.service} today (${w.drift.map((d) => d.split(':')[0]).join(', ')} differ).`,
        symptom: missing
          ? 'the hostname answers with the catch-all (404) until the operator writes the rule'
          : `the hostname works as the config says until the next reconcile of the ${w.writerKind} rewrites the rule, then it changes without a change to it`,
        evidence: [...(w.rule ? ruleEvidence(tunnel, w.rule) : []), ...(w.protocol.source ? [`${w.label}: ${w.protocol.source}`] : []), ...w.drift.map((d) => `drift: ${d}`), ...(tunnel.syncStatus ? [`${tunnel.label} syncStatus: ${tunnel.syncStatus}`] : [])],
        fixes: fix ? [rerouting(fix)] : [],
        namespaces: [w.namespace, tunnel.namespace],
        objects: [w.writer, tunnel.object],
        edges: w.rule ? [ruleKey(tunnel, w.rule)] : [],
      });
    }
    for (const { tunnel, rule, why } of model.operator.stale) {
      const source = rule.source;
      const fix = source
        ? operatorConfigFix(
            model,
            tunnel,
            source,
            (rules) => {
              const at = rules.findIndex((r) => sameHostPath(r, rule.hostname, rule.path) && r.service === rule.service);
              if (at >= 0) rules.splice(at, 1);
            },
            `Remove the stale rule ${rule.hostname ?? '*'}${rule.path ? ` ${rule.path}` : ''} → ${rule.service}`,
            ['no Ingress produces this rule any more: the operator drops it on its next reconcile of this tunnel config'],
          )
        : undefined;
      const cm = tunnel.configMap;
      findings.push({
        resource: { kind: 'ConfigMap', namespace: tunnel.namespace, name: cm?.metadata.name ?? tunnel.label },
        message: `${tunnel.label} still routes ${rule.hostname ?? '*'}${rule.path ? ` ${rule.path}` : ''} to ${rule.service}, but ${why}: the rule is stale.`,
        symptom: 'the hostname keeps reaching the old backend until the operator reconciles, then answers with the catch-all (404)',
        evidence: [...ruleEvidence(tunnel, rule), why, ...(tunnel.syncStatus ? [`syncStatus: ${tunnel.syncStatus}`] : [])],
        fixes: fix ? [rerouting(fix)] : [],
        namespaces: [tunnel.namespace],
        objects: [tunnel.object],
        edges: [ruleKey(tunnel, rule)],
      });
    }
    return findings;
  },
};
