// Go's net/url.Parse, as far as cloudflared's ingress validation depends on it (ingress.go
// validateIngress: `url.Parse(r.Service)`, then u.Scheme, u.Hostname(), u.Path). JavaScript's URL
// follows WHATWG and accepts what Go refuses (a space in the host) and refuses what Go accepts, so
// the checks cloudflared relies on are followed here step by step, with Go's error messages.

export interface GoUrl {
  /** Lower-cased, as Go does. */
  scheme: string;
  /** `scheme:opaque` (no `//`): Go keeps the rest as Opaque, with no host. */
  opaque: string;
  /** Host as written after userinfo: `name`, `name:port`, `[v6]:port` (unescaped). */
  host: string;
  /** u.Hostname(): the host without port and brackets. */
  hostname: string;
  /** u.Port(): digits after the last colon ('' when none). */
  port: string;
  /** Decoded path. */
  path: string;
  hasUser: boolean;
}

export type GoUrlResult = { ok: true; url: GoUrl } | { ok: false; error: string };

const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

type Mode = 'host' | 'zone' | 'path' | 'user' | 'fragment';

/** Go's shouldEscape, for the modes parsing uses. */
function shouldEscape(c: number, mode: Mode): boolean {
  if (isAlpha(c) || isDigit(c)) return false;
  const ch = String.fromCharCode(c);
  if ((mode === 'host' || mode === 'zone') && `!$&'()*+,;=:[]<>"`.includes(ch)) return false;
  if ('-_.~'.includes(ch)) return false;
  if ('$&+,/:;=?@'.includes(ch)) {
    if (mode === 'path') return ch === '?';
    if (mode === 'user') return '@/?:'.includes(ch);
    if (mode === 'fragment') return false;
  }
  if (mode === 'fragment' && '!()*'.includes(ch)) return false;
  return true;
}

/** Go's EscapeError / InvalidHostError text; %q of the piece. */
const quote = (s: string): string => JSON.stringify(s);

/** Go's unescape: validates (host bytes cannot be %-escaped ASCII) and decodes %XX as UTF-8 bytes. */
function unescape(s: string, mode: Mode): { ok: true; value: string } | { ok: false; error: string } {
  const bytes = Buffer.from(s, 'utf8');
  let escapes = 0;
  for (let i = 0; i < bytes.length; ) {
    const c = bytes[i] as number;
    if (c === 0x25) {
      escapes++;
      if (i + 2 >= bytes.length || !isHex(bytes[i + 1] as number) || !isHex(bytes[i + 2] as number)) {
        return { ok: false, error: `invalid URL escape ${quote(bytes.subarray(i, i + 3).toString('utf8'))}` };
      }
      const piece = bytes.subarray(i, i + 3).toString('latin1');
      const v = parseInt(piece.slice(1), 16);
      if (mode === 'host' && v < 0x80 && piece !== '%25') return { ok: false, error: `invalid URL escape ${quote(piece)}` };
      if (mode === 'zone' && piece !== '%25' && v !== 0x20 && shouldEscape(v, 'host')) return { ok: false, error: `invalid URL escape ${quote(piece)}` };
      i += 3;
      continue;
    }
    if ((mode === 'host' || mode === 'zone') && c < 0x80 && shouldEscape(c, mode)) {
      return { ok: false, error: `invalid character ${quote(String.fromCharCode(c))} in host name` };
    }
    i++;
  }
  if (escapes === 0) return { ok: true, value: s };
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x25) {
      out.push(parseInt(bytes.subarray(i + 1, i + 3).toString('latin1'), 16));
      i += 2;
    } else out.push(bytes[i] as number);
  }
  return { ok: true, value: Buffer.from(out).toString('utf8') };
}

function validOptionalPort(port: string): boolean {
  return port === '' || /^:\d*$/.test(port);
}

/** Go's validUserinfo. */
function validUserinfo(s: string): boolean {
  return /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(s);
}

function parseHost(host: string): { ok: true; value: string } | { ok: false; error: string } {
  if (host.startsWith('[')) {
    const i = host.lastIndexOf(']');
    if (i < 0) return { ok: false, error: "missing ']' in host" };
    const colonPort = host.slice(i + 1);
    if (!validOptionalPort(colonPort)) return { ok: false, error: `invalid port ${quote(colonPort)} after host` };
    // Since Go 1.25.2 (CVE-2025-47912) only an IPv6 address may stand in brackets.
    const inside = host.slice(1, i);
    const zoneAt = inside.indexOf('%25');
    const address = zoneAt >= 0 ? inside.slice(0, zoneAt) : inside;
    if (!isIPv6(address)) return { ok: false, error: `invalid IP-literal ${quote(host.slice(0, i + 1))}` };
    if (zoneAt >= 0) {
      const a = unescape(host.slice(0, 1 + zoneAt), 'host');
      if (!a.ok) return a;
      const z = unescape(host.slice(1 + zoneAt, i), 'zone');
      if (!z.ok) return z;
      const b = unescape(host.slice(i), 'host');
      if (!b.ok) return b;
      return { ok: true, value: a.value + z.value + b.value };
    }
  } else {
    const i = host.lastIndexOf(':');
    if (i >= 0 && !validOptionalPort(host.slice(i))) return { ok: false, error: `invalid port ${quote(host.slice(i))} after host` };
  }
  return unescape(host, 'host');
}

/** netip.ParseAddr accepting only IPv6 (an IPv4 in brackets is refused too). */
function isIPv6(s: string): boolean {
  if (!s.includes(':')) return false;
  // Zones arrive %25-escaped and are cut off above.
  return !s.includes('%') && /^[0-9a-fA-F:.]+$/.test(s) && ipv6Shape(s);
}

function ipv6Shape(s: string): boolean {
  const parts = s.split('::');
  if (parts.length > 2) return false;
  const groups = (p: string): string[] => (p === '' ? [] : p.split(':'));
  const head = groups(parts[0] as string);
  const tail = parts.length === 2 ? groups(parts[1] as string) : [];
  const all = [...head, ...tail];
  let count = 0;
  for (let j = 0; j < all.length; j++) {
    const g = all[j] as string;
    if (g.includes('.')) {
      if (j !== all.length - 1 || !/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(g)) return false;
      count += 2;
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
      count += 1;
    }
  }
  return parts.length === 2 ? count < 8 : count === 8;
}

/** Go's url.Parse(raw). */
export function parseGoUrl(raw: string): GoUrlResult {
  const hashAt = raw.indexOf('#');
  const u = hashAt >= 0 ? raw.slice(0, hashAt) : raw;
  const fail = (error: string, what = u): GoUrlResult => ({ ok: false, error: `parse ${quote(what)}: ${error}` });
  // stringContainsCTLByte
  if (/[\u0000-\u001f\u007f]/.test(u)) return fail('net/url: invalid control character in URL');
  let scheme = '';
  let rest = u;
  for (let i = 0; i < u.length; i++) {
    const c = u.charCodeAt(i);
    if (isAlpha(c)) continue;
    if (isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e) {
      if (i === 0) break;
      continue;
    }
    if (c === 0x3a) {
      if (i === 0) return fail('missing protocol scheme');
      scheme = u.slice(0, i).toLowerCase();
      rest = u.slice(i + 1);
    }
    break;
  }
  if (rest.endsWith('?') && rest.split('?').length === 2) rest = rest.slice(0, -1);
  else {
    const q = rest.indexOf('?');
    if (q >= 0) rest = rest.slice(0, q);
  }
  const url: GoUrl = { scheme, opaque: '', host: '', hostname: '', port: '', path: '', hasUser: false };
  if (!rest.startsWith('/')) {
    if (scheme !== '') {
      url.opaque = rest;
      return withFragment(url, raw, hashAt);
    }
    const segment = rest.split('/')[0] as string;
    if (segment.includes(':')) return fail('first path segment in URL cannot contain colon');
  }
  if (rest.startsWith('//') && (scheme !== '' || !rest.startsWith('///'))) {
    let authority = rest.slice(2);
    rest = '';
    const slash = authority.indexOf('/');
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    const at = authority.lastIndexOf('@');
    const host = parseHost(at < 0 ? authority : authority.slice(at + 1));
    if (!host.ok) return fail(host.error);
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      if (!validUserinfo(userinfo)) return fail('net/url: invalid userinfo');
      for (const part of userinfo.includes(':') ? [userinfo.slice(0, userinfo.indexOf(':')), userinfo.slice(userinfo.indexOf(':') + 1)] : [userinfo]) {
        const un = unescape(part, 'user');
        if (!un.ok) return fail(un.error);
      }
      url.hasUser = true;
    }
    url.host = host.value;
    const { hostname, port } = splitHostPort(host.value);
    url.hostname = hostname;
    url.port = port;
  }
  const path = unescape(rest, 'path');
  if (!path.ok) return fail(path.error);
  url.path = path.value;
  return withFragment(url, raw, hashAt);
}

function withFragment(url: GoUrl, raw: string, hashAt: number): GoUrlResult {
  if (hashAt < 0) return { ok: true, url };
  const frag = unescape(raw.slice(hashAt + 1), 'fragment');
  return frag.ok ? { ok: true, url } : { ok: false, error: `parse ${quote(raw)}: ${frag.error}` };
}

/** u.Hostname() and u.Port(). */
function splitHostPort(host: string): { hostname: string; port: string } {
  let hostname = host;
  let port = '';
  const colon = host.lastIndexOf(':');
  if (colon >= 0 && /^:\d*$/.test(host.slice(colon))) {
    hostname = host.slice(0, colon);
    port = host.slice(colon + 1);
  }
  if (hostname.startsWith('[') && hostname.endsWith(']')) hostname = hostname.slice(1, -1);
  return { hostname, port };
}

/** A request path as Go's HTTP server hands it to cloudflared (req.URL.Path: %XX decoded, `+` kept); an invalid escape stays as written. */
export function decodeRequestPath(raw: string): string {
  const r = unescape(raw, 'path');
  return r.ok ? r.value : raw;
}
