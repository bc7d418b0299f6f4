// The names a log line carries: Envoy cluster names (`outbound|9091||gw.app.svc.cluster.local`),
// URLs (cloudflared's originService=…), addresses (`10.244.2.31:9091`), hostnames, cloudflared's
// `ingressRule=N`, and plain words that may name a Service or workload. Text only; what they
// stand for in the cluster is decided against the model (why/explain.ts).

export type LineName =
  | { kind: 'cluster'; text: string; direction: 'outbound' | 'inbound'; port: number; subset?: string; host?: string }
  | { kind: 'url'; text: string; scheme: string; host: string; port?: number }
  | { kind: 'address'; text: string; ip: string; port?: number }
  | { kind: 'host'; text: string; host: string; port?: number }
  | { kind: 'rule-index'; text: string; index: number }
  | { kind: 'word'; text: string };

/** Dotted words that are file names or versions in log lines, not hosts. */
const NOT_A_TLD = new Set(['go', 'cc', 'h', 'ts', 'js', 'json', 'yaml', 'yml', 'log', 'txt', 'proto', 'conf', 'sock']);

function port(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const n = Number(text);
  return Number.isInteger(n) && n > 0 && n <= 65535 ? n : undefined;
}

function isHostLike(host: string): boolean {
  const labels = host.toLowerCase().split('.');
  if (labels.length < 2 || labels.every((l) => /^\d+$/.test(l))) return false;
  const tld = labels.at(-1) as string;
  if (/^\d/.test(tld) || NOT_A_TLD.has(tld)) return false;
  // Envoy's own dotted names (envoy.filters.http.router, istio.metadata_exchange).
  return !/^(envoy|istio|type|google|io\.istio)$/.test(labels[0] as string) || labels.includes('svc');
}

export function extractNames(line: string): LineName[] {
  const out: LineName[] = [];
  const seen = new Set<string>();
  const push = (n: LineName): void => {
    const key = `${n.kind}:${n.text.toLowerCase()}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(n);
    }
  };
  // Spans already read as a cluster or URL are not read again as a host.
  let rest = line;
  for (const m of line.matchAll(/\b(outbound|inbound)\|(\d{1,5})\|([^|\s"']*)\|([^\s"'|,}]*)/g)) {
    const p = port(m[2]);
    if (p === undefined) continue;
    push({ kind: 'cluster', text: m[0], direction: m[1] as 'outbound' | 'inbound', port: p, ...(m[3] ? { subset: m[3] } : {}), ...(m[4] ? { host: m[4].toLowerCase() } : {}) });
    rest = rest.replace(m[0], ' ');
  }
  for (const m of rest.matchAll(/\b([a-z][a-z0-9+.-]*):\/\/(\[[^\]\s]+\]|[^\s/:"'?#,]+)(?::(\d{1,5}))?/gi)) {
    const p = port(m[3]);
    push({ kind: 'url', text: m[0], scheme: (m[1] as string).toLowerCase(), host: (m[2] as string).toLowerCase(), ...(p !== undefined ? { port: p } : {}) });
    rest = rest.replace(m[0], ' ');
  }
  for (const m of rest.matchAll(/(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?(?![\d.])/g)) {
    const p = port(m[2]);
    push({ kind: 'address', text: m[0], ip: m[1] as string, ...(p !== undefined ? { port: p } : {}) });
    rest = rest.replace(m[0], ' ');
  }
  for (const m of rest.matchAll(/(?<![\w.-])([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)(?::(\d{1,5}))?(?![\w-])/gi)) {
    const host = (m[1] as string).toLowerCase();
    if (!isHostLike(host)) continue;
    const p = port(m[2]);
    push({ kind: 'host', text: m[0], host, ...(p !== undefined ? { port: p } : {}) });
  }
  for (const m of line.matchAll(/\bingressRule[=:]\s*(\d+)/g)) push({ kind: 'rule-index', text: m[0], index: Number(m[1]) });
  for (const m of rest.matchAll(/(?<![\w.-])([a-z0-9][a-z0-9-]{2,62})(?![\w.-])/g)) push({ kind: 'word', text: m[1] as string });
  return out;
}
