// Which ports a sidecar's iptables rules capture (domain §3 inbound, §4 outbound).
// Two sources say it: the pod's `traffic.sidecar.istio.io/*` annotations (what the injector
// and Istio CNI read) and, without CNI, the `istio-init` container's args (what was applied).

import { isIPv6 } from 'node:net';
import type { Container, StringMap } from '../core/k8s.js';

export const ANNOTATION = {
  includeInboundPorts: 'traffic.sidecar.istio.io/includeInboundPorts',
  excludeInboundPorts: 'traffic.sidecar.istio.io/excludeInboundPorts',
  includeOutboundPorts: 'traffic.sidecar.istio.io/includeOutboundPorts',
  excludeOutboundPorts: 'traffic.sidecar.istio.io/excludeOutboundPorts',
  includeOutboundIPRanges: 'traffic.sidecar.istio.io/includeOutboundIPRanges',
  excludeOutboundIPRanges: 'traffic.sidecar.istio.io/excludeOutboundIPRanges',
} as const;

/** Ports the sidecar itself listens on; iptables never redirects them (15008 is the HBONE tunnel). */
export const ALWAYS_BYPASSED_INBOUND = new Set([15008, 15020, 15021, 15090]);

export interface PortList {
  /** `*`: every port. */
  all: boolean;
  ports: Set<number>;
  /** Entries Istio rejects (non-numeric, ranges, out of range, `*` where not allowed). */
  invalid: string[];
}

/**
 * Parses a comma list of ports the way Istio's injector validates it: items are trimmed;
 * empty items (trailing or double commas), ranges, names and `*` (where not allowed) are invalid.
 */
export function parsePortList(value: string, allowStar: boolean): PortList {
  const out: PortList = { all: false, ports: new Set(), invalid: [] };
  if (value.trim() === '') return out;
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') {
      out.invalid.push('(empty item)');
      continue;
    }
    if (entry === '*') {
      if (allowStar) out.all = true;
      else out.invalid.push(entry);
      continue;
    }
    if (!/^\d+$/.test(entry) || Number(entry) > 65535) {
      out.invalid.push(entry);
      continue;
    }
    out.ports.add(Number(entry));
  }
  return out;
}

export interface InboundCapture {
  /** Captured ports: every port (`*`) or only those listed. */
  include: PortList;
  exclude: PortList;
  /** Where the effective lists came from, e.g. "istio-init args -b '*' -d '15090,15021,15020,9091'". */
  source: string;
  /** Disagreements between annotations and istio-init args, worth showing. */
  notes: string[];
}

export interface OutboundCapture {
  excludePorts: Set<number>;
  includePorts: Set<number>;
  /** `['*']` (default) or CIDRs. */
  includeIPRanges: string[];
  excludeIPRanges: string[];
  source: string;
}

/** Args of `istio-iptables` as rendered into `istio-init` (short and long flag names). */
const INIT_FLAGS: Record<string, string> = {
  '-b': 'includeInbound',
  '--istio-inbound-ports': 'includeInbound',
  '-d': 'excludeInbound',
  '--istio-local-exclude-ports': 'excludeInbound',
  '-o': 'excludeOutboundPorts',
  '--istio-local-outbound-ports-exclude': 'excludeOutboundPorts',
  '-q': 'includeOutboundPorts',
  '--istio-outbound-ports': 'includeOutboundPorts',
  '-i': 'includeOutboundIPRanges',
  '--istio-service-cidr': 'includeOutboundIPRanges',
  '-x': 'excludeOutboundIPRanges',
  '--istio-service-exclude-cidr': 'excludeOutboundIPRanges',
};

export type InitArgs = Partial<Record<string, string>>;

/** Reads `istio-init`'s args into flag → value (handles `-b x` and `--flag=x`). */
export function readInitArgs(initContainers: Container[] | undefined): InitArgs | undefined {
  const init = initContainers?.find((c) => c.name === 'istio-init');
  if (!init) return undefined;
  const args = [...(init.command ?? []), ...(init.args ?? [])];
  const out: InitArgs = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const field = INIT_FLAGS[flag];
    if (!field) continue;
    out[field] = eq > 0 ? arg.slice(eq + 1) : (args[++i] ?? '');
  }
  return out;
}

function unquote(v: string): string {
  return v.replace(/^['"]|['"]$/g, '');
}

export function inboundCapture(annotations: StringMap, init: InitArgs | undefined): InboundCapture {
  const notes: string[] = [];
  const annInclude = annotations[ANNOTATION.includeInboundPorts];
  const annExclude = annotations[ANNOTATION.excludeInboundPorts];
  if (init && (init.includeInbound !== undefined || init.excludeInbound !== undefined)) {
    const include = unquote(init.includeInbound ?? '*');
    const exclude = unquote(init.excludeInbound ?? '');
    const fromInit = { include: parsePortList(include, true), exclude: parsePortList(exclude, false) };
    const annExcl = parsePortList(annExclude ?? '', false).ports;
    for (const p of annExcl) {
      if (!fromInit.exclude.ports.has(p)) {
        notes.push(`annotation ${ANNOTATION.excludeInboundPorts} lists ${p}, but istio-init args (-d) do not: the pod predates the annotation`);
      }
    }
    return {
      ...fromInit,
      source: `istio-init args -b '${include}' -d '${exclude}'`,
      notes,
    };
  }
  const include = parsePortList(annInclude ?? '*', true);
  const exclude = parsePortList(annExclude ?? '', false);
  const parts: string[] = [];
  if (annInclude !== undefined) parts.push(`${ANNOTATION.includeInboundPorts}="${annInclude}"`);
  if (annExclude !== undefined) parts.push(`${ANNOTATION.excludeInboundPorts}="${annExclude}"`);
  return {
    include,
    exclude,
    source: parts.length ? `annotation ${parts.join(', ')}` : 'default capture (all inbound ports)',
    notes,
  };
}

/** istio-iptables applies the exclude list (-d) only when every port is included (-b '*'). */
export function isInboundCaptured(capture: InboundCapture, port: number): boolean {
  if (ALWAYS_BYPASSED_INBOUND.has(port)) return false;
  if (capture.include.all) return !capture.exclude.ports.has(port);
  return capture.include.ports.has(port);
}

export function outboundCapture(annotations: StringMap, init: InitArgs | undefined): OutboundCapture {
  const pick = (initField: string, annotation: string): { value: string; from: string } | undefined => {
    const v = init?.[initField];
    if (v !== undefined) return { value: unquote(v), from: 'istio-init args' };
    const a = annotations[annotation];
    return a === undefined ? undefined : { value: a, from: `annotation ${annotation}` };
  };
  const exPorts = pick('excludeOutboundPorts', ANNOTATION.excludeOutboundPorts);
  const inPorts = pick('includeOutboundPorts', ANNOTATION.includeOutboundPorts);
  const inRanges = pick('includeOutboundIPRanges', ANNOTATION.includeOutboundIPRanges);
  const exRanges = pick('excludeOutboundIPRanges', ANNOTATION.excludeOutboundIPRanges);
  const list = (v: string | undefined): string[] =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const sources = [exPorts, inPorts, inRanges, exRanges].filter((x) => x).map((x) => x?.from);
  return {
    excludePorts: parsePortList(exPorts?.value ?? '', false).ports,
    includePorts: parsePortList(inPorts?.value ?? '', false).ports,
    includeIPRanges: inRanges ? list(inRanges.value) : ['*'],
    excludeIPRanges: list(exRanges?.value),
    source: sources.length ? [...new Set(sources)].join(', ') : 'default capture (all outbound traffic)',
  };
}

/** Is an IPv4/IPv6 address inside a CIDR? (`*` covers everything.) */
export function ipInCidr(ip: string, cidr: string): boolean {
  if (cidr === '*') return true;
  const [net, bitsText] = cidr.split('/');
  const a = ipToBigInt(ip);
  const b = ipToBigInt(net ?? '');
  if (!a || !b || a.width !== b.width) return false;
  const bits = bitsText === undefined ? a.width : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > a.width) return false;
  const shift = BigInt(a.width - bits);
  return a.value >> shift === b.value >> shift;
}

function ipToBigInt(ip: string): { value: bigint; width: number } | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) {
    const parts = ip.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n), width: 32 };
  }
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    if (tail === undefined && h.length !== 8) return undefined;
    const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
    return { value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n), width: 128 };
  }
  return undefined;
}

export type Bypass = { bypass: true; why: string } | { bypass: false; maybe?: string };

/**
 * Does a meshed client's outbound connection to ip:port skip its sidecar?
 * Without the IP (offline), a non-default range is reported as a condition, not a verdict.
 */
export function outboundBypass(out: OutboundCapture, port: number, ip: string | undefined): Bypass {
  if (out.excludePorts.has(port)) return { bypass: true, why: `port ${port} is in the client's excludeOutboundPorts (${out.source})` };
  if (out.includePorts.has(port)) return { bypass: false };
  const includesAll = out.includeIPRanges.includes('*');
  if (ip) {
    const excluded = out.excludeIPRanges.find((c) => ipInCidr(ip, c));
    if (excluded) return { bypass: true, why: `${ip} is in the client's excludeOutboundIPRanges ${excluded}` };
    if (!includesAll && !out.includeIPRanges.some((c) => ipInCidr(ip, c))) {
      return { bypass: true, why: `${ip} is outside the client's includeOutboundIPRanges ${out.includeIPRanges.join(',')}` };
    }
    return { bypass: false };
  }
  const conditions: string[] = [];
  if (out.excludeIPRanges.length) conditions.push(`excludeOutboundIPRanges ${out.excludeIPRanges.join(',')} covers the Service IP`);
  if (!includesAll) conditions.push(`includeOutboundIPRanges ${out.includeIPRanges.join(',')} does not cover the Service IP`);
  return conditions.length
    ? { bypass: false, maybe: `if ${conditions.join(' or ')}, the client bypasses its sidecar and sends plaintext` }
    : { bypass: false };
}

// ---- Validation (what Istio's injector accepts) ----------------------------------------

/** The capture annotations the injector validates before injecting (a bad value rejects the pod). */
export const VALIDATED_CAPTURE_ANNOTATIONS = [
  ANNOTATION.includeInboundPorts,
  ANNOTATION.excludeInboundPorts,
  ANNOTATION.excludeOutboundPorts,
  ANNOTATION.includeOutboundIPRanges,
  ANNOTATION.excludeOutboundIPRanges,
] as const;

export interface CaptureAnnotationProblem {
  key: string;
  value: string;
  /** The offending items, as written (`(empty item)` for stray commas). */
  invalid: string[];
  /** What Istio expects there. */
  expected: string;
}

/** Port list items, trimmed as Istio's parsePorts does; an empty value is fine. */
function invalidPortItems(value: string): string[] {
  if (value === '') return [];
  return value.split(',').flatMap((raw) => {
    const item = raw.trim();
    if (item === '') return ['(empty item)'];
    return /^\d+$/.test(item) && Number(item) <= 65535 ? [] : [item];
  });
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Go's netip.ParsePrefix: `addr/bits`, no zone, no spaces (Istio does not trim CIDR items). */
export function isValidPrefix(text: string): boolean {
  const slash = text.indexOf('/');
  if (slash < 0) return false;
  const addr = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  if (!/^(0|[1-9]\d*)$/.test(bits)) return false;
  if (IPV4.test(addr)) return Number(bits) <= 32;
  return !addr.includes('%') && isIPv6(addr) && Number(bits) <= 128;
}

function invalidCidrItems(value: string): string[] {
  if (value === '') return [];
  return value.split(',').flatMap((item) => (isValidPrefix(item) ? [] : [item === '' ? '(empty item)' : item]));
}

/**
 * Capture annotations whose value Istio's injector rejects (validateAnnotations): port lists
 * must be numbers 0–65535 separated by commas (spaces around items are fine; no ranges, no
 * names, no empty items); `*` only as the whole includeInboundPorts value; IP ranges must be
 * CIDRs (`*` only as the whole includeOutboundIPRanges value). includeOutboundPorts is not
 * validated by the injector.
 */
export function invalidCaptureAnnotations(annotations: StringMap): CaptureAnnotationProblem[] {
  const out: CaptureAnnotationProblem[] = [];
  for (const key of VALIDATED_CAPTURE_ANNOTATIONS) {
    const value = annotations[key];
    if (value === undefined) continue;
    let invalid: string[];
    let expected: string;
    switch (key) {
      case ANNOTATION.includeInboundPorts:
        invalid = value === '*' ? [] : invalidPortItems(value);
        expected = '"*" or a comma list of port numbers 0-65535';
        break;
      case ANNOTATION.includeOutboundIPRanges:
        invalid = value === '*' ? [] : invalidCidrItems(value);
        expected = '"*" or a comma list of CIDRs (e.g. 10.0.0.0/8), without spaces';
        break;
      case ANNOTATION.excludeOutboundIPRanges:
        invalid = invalidCidrItems(value);
        expected = 'a comma list of CIDRs (e.g. 10.0.0.0/8), without spaces';
        break;
      default:
        invalid = invalidPortItems(value);
        expected = 'a comma list of port numbers 0-65535 (no "*", no ranges)';
    }
    if (invalid.length) out.push({ key, value, invalid, expected });
  }
  return out;
}
