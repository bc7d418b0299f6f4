// What cloudflared does with a list of ingress rules (domain §9, research notes b): which configs
// it refuses, which rule a request matches, which schemes it proxies as HTTP and which become a
// raw TCP stream, and which originRequest settings apply to a rule.

import type { TunnelRule } from './tunnels.js';

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

const SPECIAL = /^(http_status:|hello[_-]?world$|bastion$|socks-proxy$|unix:|unix\+tls:)/;

/**
 * How cloudflared treats a rule's `service` (`ingress.go` ParseIngress, in its order): unix
 * sockets, `http_status:`, hello_world, socks-proxy, bastion, else a URL that must have a scheme
 * and a hostname and no path. `bastionMode` in originRequest also makes a bastion.
 */
export function serviceKind(service: string, originRequest?: Record<string, unknown>): ServiceKind {
  if (service.startsWith('http_status:')) {
    const code = service.slice('http_status:'.length);
    if (!/^[+-]?\d+$/.test(code)) return { kind: 'invalid', problem: `${service}: invalid HTTP status code` };
    const n = Number(code);
    if (n < 100 || n > 999) return { kind: 'invalid', problem: `invalid HTTP status code: ${n}` };
    return { kind: 'special', what: `answers HTTP ${n} itself` };
  }
  if (SPECIAL.test(service)) return { kind: 'special', what: service.replace(/:.*/, '') };
  if (originRequest?.bastionMode === true) return { kind: 'special', what: 'bastion (originRequest.bastionMode)' };
  const url = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(\[[^\]]*\]|[^/?#:]*)(:[^/?#]*)?([^?#]*)/.exec(service);
  if (!url || url[2] === '' || url[2] === '[]') {
    return { kind: 'invalid', problem: `${service} is an invalid address, please make sure it has a scheme and a hostname` };
  }
  if (url[3] !== undefined && !/^:\d*$/.test(url[3])) {
    return { kind: 'invalid', problem: `parse "${service}": invalid port "${url[3]}" after host` };
  }
  if ((url[4] ?? '') !== '') {
    return {
      kind: 'invalid',
      problem: `${service} is an invalid address, ingress rules don't support proxying to a different path on the origin service. The path will be the same as the eyeball request's path`,
    };
  }
  const scheme = (url[1] as string).toLowerCase();
  return HTTP_SCHEMES.has(scheme) ? { kind: 'http', scheme } : { kind: 'stream', scheme };
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
 * RE2 (Go's regexp) differs from JavaScript's: no lookaround, no backreferences, no possessive
 * or atomic groups. Returns cloudflared's complaint, or undefined when Go would compile it.
 */
export function goRegexpProblem(pattern: string): string | undefined {
  if (/\(\?(?:=|!|<=|<!|>)/.test(pattern)) return 'lookaround and atomic groups are not supported by Go regexp (RE2)';
  if (/(^|[^\\])\\[1-9]/.test(pattern)) return 'backreferences are not supported by Go regexp (RE2)';
  if (/[*+?}][+]/.test(pattern.replace(/\\./g, ''))) return 'possessive quantifiers are not supported by Go regexp (RE2)';
  try {
    new RegExp(pattern.replace(/\(\?P</g, '(?<'));
  } catch (err) {
    return (err as Error).message.replace(/^Invalid regular expression: /, '');
  }
  return undefined;
}

/**
 * The checks cloudflared runs before accepting a config (ParseIngress, validateHostname), in its
 * order, with its messages. An empty list means cloudflared accepts the rules.
 */
export function validateRules(rules: readonly TunnelRule[]): ConfigProblem[] {
  if (rules.length === 0) return [{ message: "The config file doesn't contain any ingress rules" }];
  const problems: ConfigProblem[] = [];
  rules.forEach((rule, i) => {
    const kind = serviceKind(rule.service, rule.originRequest);
    if (rule.service === '') problems.push({ index: i, message: `Rule #${i + 1} has no service` });
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
      if (Array.isArray(aud) && aud.length > 0 && !a.teamName) {
        problems.push({ index: i, message: 'access.TeamName cannot be blank when access.audTags are present' });
      }
    }
  });
  return problems;
}

/** cloudflared's `matchHost`: `""`/`*` match everything, `*.x` matches subdomains of x (not x), else exact. */
export function matchHost(ruleHost: string | undefined, requestHost: string): boolean {
  if (ruleHost === undefined || ruleHost === '' || ruleHost === '*') return true;
  if (ruleHost === requestHost) return true;
  if (ruleHost.startsWith('*.')) return requestHost.endsWith(ruleHost.slice(1));
  return false;
}

/** Does a rule's path regexp (unanchored) match the request path? An empty path matches every path. */
export function pathMatches(path: string | undefined, requestPath: string): boolean {
  if (!path) return true;
  try {
    return new RegExp(path.replace(/\(\?P</g, '(?<')).test(requestPath);
  } catch {
    return false;
  }
}

/**
 * `cloudflared tunnel ingress rule URL`: the first rule whose hostname and (unanchored) path
 * regexp match; the last rule when none does. The request's port is ignored.
 */
export function findMatchingRule<R extends Pick<TunnelRule, 'hostname' | 'path'>>(rules: readonly R[], host: string, path: string): R | undefined {
  const bare = host.replace(/:\d+$/, '');
  return rules.find((r) => matchHost(r.hostname, bare) && pathMatches(r.path, path)) ?? rules.at(-1);
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
