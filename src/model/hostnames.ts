// cloudflared gives a rule's hostname a punycode alias and matches a request on either
// (ingress.go: idna.Lookup.ToASCII, rule.go Matches). Go's Lookup profile maps (lower-cases),
// applies the STD3 rules and CheckHyphens, and fails on what they refuse — then cloudflared keeps
// no alias. Node's url.domainToASCII is UTS #46 without those two checks, so they come first.

import { domainToASCII } from 'node:url';

/** The punycode form cloudflared also matches a rule hostname on, when it differs from the hostname. */
const aliases = new Map<string, string | undefined>();

export function punycodeAlias(hostname: string | undefined): string | undefined {
  if (!hostname || hostname === '*') return undefined;
  // Matching asks for the same few rule hostnames thousands of times.
  if (aliases.has(hostname)) return aliases.get(hostname);
  const alias = computeAlias(hostname);
  aliases.set(hostname, alias);
  return alias;
}

/** Lower-case ASCII with no xn-- label is its own ToASCII: no alias, without asking the IDNA code. */
const PLAIN_ASCII = /^[a-z0-9.-]*$/;

function computeAlias(hostname: string): string | undefined {
  if (PLAIN_ASCII.test(hostname) && !hostname.includes('xn--')) return undefined;
  const lower = hostname.toLowerCase();
  // STD3: ASCII other than letters, digits, hyphen and dot is disallowed (`*`, `_`, spaces…).
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if (c < 0x80 && !/[a-z0-9.-]/.test(lower[i] as string)) return undefined;
  }
  // CheckHyphens: no label starts or ends with `-` or has `--` at positions 3–4 (an xn-- label is checked decoded).
  for (const label of lower.split('.')) {
    if (label.startsWith('-') || label.endsWith('-')) return undefined;
    if (label.slice(2, 4) === '--' && !label.startsWith('xn--')) return undefined;
  }
  const ascii = domainToASCII(lower);
  if (ascii === '') return undefined;
  return ascii === hostname ? undefined : ascii;
}
