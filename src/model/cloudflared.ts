// What cloudflared does with a list of ingress rules (domain §9, research notes b): which configs
// it refuses, which rule a request matches, which schemes it proxies as HTTP and which become a
// raw TCP stream, and which originRequest settings apply to a rule.

import { isIP } from 'node:net';
import { goRegexpMatches, goRegexpProblem } from './goregexp.js';
import { parseGoUrl } from './gourl.js';
import { punycodeAlias } from './hostnames.js';
import type { TunnelRule } from './tunnels.js';

export { goRegexpProblem };

/** Schemes cloudflared proxies as HTTP (ws/wss are upgraded HTTP); every other URL scheme is a TCP stream. */
export const HTTP_SCHEMES: ReadonlySet<string> = new Set(['http', 'https', 'ws', 'wss']);

/** Stream schemes cloudflared gives a default port (`newTCPOverWSService`). */
export const STREAM_DEFAULT_PORTS: Readonly<Record<string, number>> = { ssh: 22, rdp: 3389, smb: 445, tcp: 7864 };

/** Schemes that are TLS towards the origin. */
export function isTlsScheme(scheme: string): boolean {
  return scheme === 'https' || scheme === 'wss';
}

export type ServiceKind =
  | { kind: 'http'; scheme: string }
  | { kind: 'stream'; scheme: string }
  | { kind: 'special'; what: string }
  | { kind: 'invalid'; problem: string };

/** Services cloudflared answers itself (validateIngress, in its order, before a URL is parsed). */
const SPECIAL = /^(http_status:|hello_world$|hello-world$|bastion$|socks-proxy$|unix:|unix\+tls:)/;

/** An originRequest's `bastionMode`, the rule's over the config's (setConfig). */
function bastionMode(originRequest: Record<string, unknown> | undefined, global: Record<string, unknown> | undefined): boolean {
  const own = originRequest?.bastionMode;
  if (typeof own === 'boolean') return own;
  return global?.bastionMode === true;
}

/** ipaccess.NewRuleByCIDR for socks-proxy `ipRules`: a prefix net.ParseCIDR accepts, ports 1–65535. */
function ipRuleProblem(raw: unknown): string | undefined {
  const rule = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const prefix = rule.prefix;
  if (typeof prefix !== 'string' || prefix === '') return 'no prefix provided';
  const slash = prefix.indexOf('/');
  const addr = slash < 0 ? prefix : prefix.slice(0, slash);
  const bits = slash < 0 ? '' : prefix.slice(slash + 1);
  const family = addr.includes('%') ? 0 : isIP(addr);
  const max = family === 4 ? 32 : 128;
  if (family === 0 || !/^\d+$/.test(bits) || Number(bits) > max) return `unable to parse cidr: ${prefix}`;
  for (const port of Array.isArray(rule.ports) ? rule.ports : []) {
    if (typeof port === 'number' && (port < 1 || port > 65535)) return `invalid port ${port}, needs to be between 1 and 65535`;
  }
  return undefined;
}

/**
 * How cloudflared treats a rule's `service` (ingress.go validateIngress, in its order): unix
 * sockets, `http_status:`, hello_world, socks-proxy (with its ipRules), bastion — by name or by
 * `originRequest.bastionMode`, the rule's or the config's — else a URL that Go's url.Parse accepts,
 * with a scheme and a hostname and no path.
 */
export function serviceKind(service: string, originRequest?: Record<string, unknown>, globalOriginRequest?: Record<string, unknown>): ServiceKind {
  if (service.startsWith('unix:') || service.startsWith('unix+tls:')) return { kind: 'special', what: service.replace(/:.*/, '') };
  if (service.startsWith('http_status:')) {
    const code = service.slice('http_status:'.length);
    if (!/^[+-]?\d+$/.test(code)) return { kind: 'invalid', problem: `invalid HTTP status code: strconv.Atoi: parsing ${JSON.stringify(code)}: invalid syntax` };
    const n = Number(code);
    if (n < 100 || n > 999) return { kind: 'invalid', problem: `invalid HTTP status code: ${n}` };
    return { kind: 'special', what: `answers HTTP ${n} itself` };
  }
  if (service === 'hello_world' || service === 'hello-world') return { kind: 'special', what: 'hello_world' };
  if (service === 'socks-proxy') {
    const rules = originRequest?.ipRules;
    for (const r of Array.isArray(rules) ? rules : []) {
      const why = ipRuleProblem(r);
      if (why) return { kind: 'invalid', problem: `unable to create ip rule for socks-proxy: ${why}` };
    }
    return { kind: 'special', what: 'socks-proxy' };
  }
  if (service === 'bastion') return { kind: 'special', what: 'bastion' };
  if (bastionMode(originRequest, globalOriginRequest)) return { kind: 'special', what: 'bastion (originRequest.bastionMode)' };
  const parsed = parseGoUrl(service);
  if (!parsed.ok) return { kind: 'invalid', problem: parsed.error };
  const u = parsed.url;
  if (u.scheme === '' || u.hostname === '') {
    return { kind: 'invalid', problem: `${service} is an invalid address, please make sure it has a scheme and a hostname` };
  }
  if (u.path !== '') {
    return {
      kind: 'invalid',
      problem: `${service} is an invalid address, ingress rules don't support proxying to a different path on the origin service. The path will be the same as the eyeball request's path`,
    };
  }
  return HTTP_SCHEMES.has(u.scheme) ? { kind: 'http', scheme: u.scheme } : { kind: 'stream', scheme: u.scheme };
}

export interface ConfigProblem {
  /** 0-based rule index; undefined = the config as a whole. */
  index?: number;
  /** cloudflared's own message, where it has one. */
  message: string;
}

export function isCatchAll(rule: Pick<TunnelRule, 'hostname' | 'path'>): boolean {
  return (rule.hostname === undefined || rule.hostname === '' || rule.hostname === '*') && (rule.path === undefined || rule.path === '');
}

/** Go's net.SplitHostPort succeeds: `host:port` or `[v6]:port`. */
function hasPort(hostname: string): boolean {
  return /^\[[^\]]*\]:[^:]*$/.test(hostname) || /^[^:[\]]*:[^:]*$/.test(hostname);
}

/**
 * The checks cloudflared runs before accepting a config (ParseIngress, validateHostname), in its
 * order, with its messages. An empty list means cloudflared accepts the rules.
 */
export function validateRules(rules: readonly TunnelRule[], globalOriginRequest?: Record<string, unknown>): ConfigProblem[] {
  if (rules.length === 0) return [{ message: "The config file doesn't contain any ingress rules" }];
  const problems: ConfigProblem[] = [];
  rules.forEach((rule, i) => {
    const kind = serviceKind(rule.service, rule.originRequest, globalOriginRequest);
    // A bastion needs no service (the rule's or the config's originRequest.bastionMode).
    if (rule.service === '' && kind.kind !== 'special') problems.push({ index: i, message: `Rule #${i + 1} has no service` });
    else if (kind.kind === 'invalid') problems.push({ index: i, message: kind.problem });
    const host = rule.hostname ?? '';
    if (host !== '' && hasPort(host)) problems.push({ index: i, message: `Rule #${i + 1}: Hostname cannot contain a port` });
    if (host.lastIndexOf('*') > 0) {
      problems.push({
        index: i,
        message: `Rule #${i + 1}: Hostname patterns can have at most one wildcard character ("*") and it can only be used for subdomains, e.g. "*.example.com"`,
      });
    }
    const last = i === rules.length - 1;
    if (last && !isCatchAll(rule)) {
      problems.push({ index: i, message: 'The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)' });
    }
    if (!last && isCatchAll(rule)) {
      problems.push({
        index: i,
        message: `Rule #${i + 1} is matching the hostname '${host}', but this will match every hostname, meaning the rules which follow it will never be triggered.`,
      });
    }
    if (rule.path) {
      const why = goRegexpProblem(rule.path);
      if (why) problems.push({ index: i, message: `Rule #${i + 1} has an invalid regex: ${why}` });
    }
    const access = rule.originRequest?.access;
    if (typeof access === 'object' && access !== null) {
      const a = access as Record<string, unknown>;
      const aud = a.audTag;
      // validateAccessConfiguration checks only an access that is required.
      if (a.required === true && Array.isArray(aud) && aud.length > 0 && !a.teamName) {
        problems.push({ index: i, message: 'access.TeamName cannot be blank when access.audTags are present' });
      }
    }
  });
  return problems;
}

/** cloudflared's `matchHost`: `*.x` matches subdomains of x (not x), else exact (case as written). */
function matchOne(ruleHost: string, requestHost: string): boolean {
  if (ruleHost === requestHost) return true;
  if (ruleHost.startsWith('*.')) return requestHost.endsWith(ruleHost.slice(1));
  return false;
}

/**
 * cloudflared's `Rule.Matches` on the hostname: `""`/`*` match everything; else the hostname, or
 * its punycode alias (idna.Lookup.ToASCII, kept when it differs), as matchHost does.
 */
export function matchHost(ruleHost: string | undefined, requestHost: string): boolean {
  if (ruleHost === undefined || ruleHost === '' || ruleHost === '*') return true;
  if (matchOne(ruleHost, requestHost)) return true;
  const alias = punycodeAlias(ruleHost);
  return alias !== undefined && matchOne(alias, requestHost);
}

/** Does a rule's path regexp (Go's, unanchored) match the (decoded) request path? An empty path matches every path. */
export function pathMatches(path: string | undefined, requestPath: string): boolean {
  return !path || goRegexpMatches(path, requestPath);
}

/**
 * `cloudflared tunnel ingress rule URL` and the proxy: the first rule whose hostname and
 * (unanchored, Go) path regexp match the request's host and DECODED path (req.URL.Path); the last
 * rule when none does. The request's port is ignored.
 */
export function findMatchingRule<R extends Pick<TunnelRule, 'hostname' | 'path'>>(rules: readonly R[], host: string, path: string): R | undefined {
  const bare = host.replace(/:\d+$/, '');
  const index = hostIndexOf(rules);
  // The candidates in rule order: rules naming the host exactly (or by its alias), and every rule
  // whose hostname is a wildcard or absent; the first whose path matches wins, as in cloudflared.
  const exact = index.exact.get(bare) ?? [];
  let i = 0;
  let j = 0;
  while (i < exact.length || j < index.other.length) {
    const next = j >= index.other.length || (i < exact.length && (exact[i] as number) < (index.other[j] as number)) ? (exact[i++] as number) : (index.other[j++] as number);
    const r = rules[next] as R;
    if (matchHost(r.hostname, bare) && (!r.path || goRegexpMatches(r.path, path))) return r;
  }
  return rules.at(-1);
}

interface HostIndex {
  /** Rule positions by exact hostname (and its punycode alias), ascending. */
  exact: Map<string, number[]>;
  /** Positions of rules with a wildcard hostname or none, ascending. */
  other: number[];
}

const hostIndexes = new WeakMap<readonly unknown[], HostIndex>();

/** A config's rules by hostname, built once: matching thousands of hosts against thousands of rules stays linear. */
function hostIndexOf(rules: ReadonlyArray<Pick<TunnelRule, 'hostname'>>): HostIndex {
  let index = hostIndexes.get(rules);
  if (!index) {
    const built: HostIndex = { exact: new Map(), other: [] };
    rules.forEach((r, i) => {
      const h = r.hostname;
      if (h === undefined || h === '' || h === '*' || h.startsWith('*.')) {
        built.other.push(i);
        return;
      }
      for (const key of new Set([h, punycodeAlias(h) ?? h])) {
        const list = built.exact.get(key);
        if (list) list.push(i);
        else built.exact.set(key, [i]);
      }
    });
    index = built;
    hostIndexes.set(rules, index);
  }
  return index;
}

/** cloudflared's defaults for the settings tunnelmesh reads (config/configuration.go). */
export const ORIGIN_REQUEST_DEFAULTS: Readonly<Record<string, unknown>> = {
  connectTimeout: '30s',
  tlsTimeout: '10s',
  tcpKeepAlive: '30s',
  noHappyEyeballs: false,
  keepAliveConnections: 100,
  keepAliveTimeout: '90s',
  noTLSVerify: false,
  disableChunkedEncoding: false,
  http2Origin: false,
  proxyAddress: '127.0.0.1',
};

export type SettingSource = 'rule' | 'config' | 'default';

export interface EffectiveOriginRequest {
  settings: Record<string, unknown>;
  /** Where each set key came from. */
  from: Record<string, SettingSource>;
}

/** Per key: the rule's originRequest, else the config's top-level one, else cloudflared's default. */
export function effectiveOriginRequest(rule: Pick<TunnelRule, 'originRequest'>, global: Record<string, unknown> | undefined): EffectiveOriginRequest {
  const settings: Record<string, unknown> = {};
  const from: Record<string, SettingSource> = {};
  const layers: Array<[SettingSource, Record<string, unknown> | undefined]> = [
    ['default', ORIGIN_REQUEST_DEFAULTS],
    ['config', global],
    ['rule', rule.originRequest],
  ];
  for (const [source, layer] of layers) {
    for (const [key, value] of Object.entries(layer ?? {})) {
      if (value === undefined || value === null) continue;
      settings[key] = value;
      from[key] = source;
    }
  }
  return { settings, from };
}
