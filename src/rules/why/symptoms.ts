// What a log line says happened on the wire, and which rules judge situations that produce it.
// Each class cites where its signal comes from (the code that writes the words), briefly, so a
// reader can check the meaning. Matching is on the words those programs print, never on rules'
// own prose; a line may carry several signals (a 503 with flag UF and a TLS error).

export interface SymptomClass {
  id: string;
  /** What happened, in a sentence a user can act on. */
  means: string;
  /** Where the words come from. */
  source: string;
  /** Rules whose findings explain it, most direct first. */
  codes: string[];
  /** A specific signal (a TLS error) outranks a generic one (a status code). */
  weight: number;
  /**
   * Says only that something failed (cloudflared's "Unable to reach the origin service", a bare 502/503):
   * its codes count only when the line has no specific signal, which otherwise says what failed.
   */
  generic?: boolean;
}

export interface SymptomMatch {
  cls: SymptomClass;
  /** The words in the line that said so. */
  matched: string;
}

/** Envoy's %RESPONSE_FLAGS% (source/common/stream_info/utility.cc, the access log docs): the ones a path judgement can explain. */
const FLAG_CLASSES: Record<string, string> = {
  UC: 'upstream-reset',
  UR: 'upstream-reset',
  UF: 'connect-failure',
  URX: 'retries-exhausted',
  UH: 'no-healthy-upstream',
  NR: 'no-route',
  NC: 'no-cluster',
  UT: 'timeout',
};

/** Every flag Envoy writes, to tell a flags token from other capitals in a line. */
const KNOWN_FLAGS = new Set(['UH', 'UF', 'UO', 'NR', 'URX', 'NC', 'DT', 'DC', 'LH', 'UT', 'LR', 'UR', 'UC', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'IH', 'SI', 'DPE', 'UPE', 'UMSDR', 'OM', 'DF', 'DO', 'DR']);

const PATH_CODES = ['TM101', 'TM102', 'TM103', 'TM301', 'TM302', 'TM304', 'TM305', 'TM501', 'TM502'];

export const CLASSES: readonly SymptomClass[] = [
  {
    id: 'tls-to-plaintext',
    means:
      'a TLS client (the client\'s sidecar sending Istio mTLS, or cloudflared with an https:// origin) got an answer that is not TLS: the other end is an application speaking plaintext — mTLS to a port the target sidecar does not capture, to a pod without a sidecar, to a port whose PeerAuthentication is DISABLE, or https:// to a plain HTTP port',
    source: "BoringSSL/OpenSSL SSL_R_WRONG_VERSION_NUMBER (Envoy's upstream TLS: the peer's first bytes are no TLS record); Go crypto/tls \"first record does not look like a TLS handshake\"; Go net/http \"server gave HTTP response to HTTPS client\"",
    codes: ['TM101', 'TM103', 'TM301', 'TM501'],
    weight: 100,
  },
  {
    id: 'plaintext-to-tls',
    means: 'a plaintext client reached a port that speaks TLS: http:// in the tunnel rule for a port that serves HTTPS, or an application that expects TLS getting plain HTTP',
    source: 'Go net/http client "malformed HTTP response \\x15\\x03…" (a TLS alert read as HTTP); Go net/http server "TLS handshake error … first record does not look like a TLS handshake"; nginx "The plain HTTP request was sent to HTTPS port"',
    codes: ['TM301', 'TM302'],
    weight: 100,
  },
  {
    id: 'tls-rejected',
    means:
      'a TLS handshake was refused over certificates: a STRICT sidecar asked for the Istio client certificate that cloudflared\'s own TLS (https://) does not have, a DestinationRule MUTUAL/ISTIO_MUTUAL toward a server that does not trust the mesh CA, or an https:// origin whose certificate cloudflared does not trust (originRequest noTLSVerify, caPool, originServerName)',
    source: 'BoringSSL TLS alerts (SSLV3_ALERT_HANDSHAKE_FAILURE, TLSV1_ALERT_UNKNOWN_CA, CERTIFICATE_VERIFY_FAILED, TLSV1_ALERT_CERTIFICATE_REQUIRED); Go crypto/x509 "certificate signed by unknown authority", "x509: certificate is valid for"; Go crypto/tls "remote error: tls: certificate required"',
    codes: ['TM102', 'TM103', 'TM301', 'TM501', 'TM502'],
    weight: 90,
  },
  {
    id: 'upstream-reset',
    means:
      'the connection was closed or reset by the other end before any response: a STRICT sidecar dropping plaintext (no filter chain takes it), or an application closing a connection that began with a TLS handshake it cannot read',
    source: 'Envoy router local reply "upstream connect error or disconnect/reset before headers. reset reason: connection termination" (source/common/router/router.cc), response code details upstream_reset_before_response_started{connection_termination|remote_reset}, flags UC/UR; Go "connection reset by peer", "EOF"',
    codes: ['TM102', 'TM101', 'TM103', 'TM501', 'TM502'],
    weight: 80,
  },
  {
    id: 'filter-chain-not-found',
    means: "the target's sidecar had no filter chain for the connection: plaintext to a port it serves STRICT (only a TLS chain), or a port istiod built no chain for",
    source: 'Envoy connection termination details / response code details "filter_chain_not_found" with flag NR on the inbound (server) side',
    codes: ['TM102', 'TM502'],
    weight: 100,
  },
  {
    id: 'connect-failure',
    means: 'no connection could be made upstream: nothing listens on the target port (a wrong or missing port, a pod not ready), the client\'s own sidecar not up yet, or a TLS handshake that failed (see the TLS error when the line has one)',
    source: 'Envoy "reset reason: connection failure", upstream_reset_before_response_started{connection_failure}, flag UF (UpstreamConnectionFailure)',
    codes: ['TM305', 'TM202', 'TM101', 'TM103', 'TM501'],
    weight: 70,
  },
  {
    id: 'connection-refused',
    means: "nothing accepted the TCP connection: no process listens on that port (the Service's targetPort or the tunnel rule's port is wrong, the pod is not ready), or cloudflared started before its sidecar, whose outbound capture port 15001 refuses until Envoy runs",
    source: 'the kernel\'s ECONNREFUSED, as Go prints it ("dial tcp …: connect: connection refused") and Envoy ("delayed_connect_error:_Connection_refused")',
    codes: ['TM305', 'TM202', 'TM501'],
    weight: 90,
  },
  {
    id: 'no-healthy-upstream',
    means: 'the cluster had no healthy endpoint: no ready pod behind the Service (or the subset), or none Envoy knows of yet',
    source: 'Envoy local reply "no healthy upstream", flag UH (NoHealthyUpstream)',
    codes: ['TM305', 'TM405', 'TM402'],
    weight: 90,
  },
  {
    id: 'no-route',
    means: 'Envoy had no route for the request: a host or path no VirtualService or route configuration matches, or (Envoy before 1.18) a route to a cluster that does not exist',
    source: 'Envoy flag NR (NoRouteFound), response code details route_not_found',
    codes: ['TM402', 'TM305'],
    weight: 80,
  },
  {
    id: 'no-cluster',
    means: 'a route points at a cluster Envoy does not have: typically a VirtualService subset no DestinationRule defines',
    source: 'Envoy flag NC (NoClusterFound), response code details cluster_not_found',
    codes: ['TM402', 'TM501'],
    weight: 100,
  },
  {
    id: 'retries-exhausted',
    means: 'Envoy retried and every attempt failed: the attempts failed for one of the reasons a reset or a connection failure has',
    source: 'Envoy flag URX (UpstreamRetryLimitExceeded, or maximum connect attempts for TCP)',
    codes: ['TM101', 'TM102', 'TM103', 'TM305', 'TM501'],
    weight: 50,
  },
  {
    id: 'http2-goaway',
    means:
      'the origin closed an HTTP/2 connection: with ErrCode PROTOCOL_ERROR or HTTP_1_1_REQUIRED it does not speak HTTP/2 as cloudflared tried (http2Origin toward a port that is not h2); with NO_ERROR it shut down gracefully (a restart, an idle timeout), which no configuration rule explains',
    source: 'Go golang.org/x/net/http2 client "http2: server sent GOAWAY and closed the connection" (cloudflared\'s origin transport)',
    codes: ['TM304', 'TM302', 'TM301'],
    weight: 90,
  },
  {
    id: 'http2-mismatch',
    means: 'one side spoke HTTP/2 and the other HTTP/1.1: gRPC or HTTP/2 through a rule without https:// and http2Origin, or HTTP/2 into an HTTP/1 port',
    source: 'Go http2 "frame too large" (an HTTP/1 answer read as a frame); Go net/http "malformed HTTP response \\x00\\x00…" (an HTTP/2 SETTINGS frame read as HTTP/1); Envoy "reset reason: protocol error"; the HTTP/2 preface "PRI * HTTP/2.0" in an HTTP/1 server\'s log',
    codes: ['TM304', 'TM302'],
    weight: 90,
  },
  {
    id: 'dns',
    means: 'the origin\'s name did not resolve: the tunnel rule names a Service or namespace that does not exist',
    source: 'Go net "lookup … no such host"',
    codes: ['TM305'],
    weight: 90,
  },
  {
    id: 'origin-unreachable',
    means: 'cloudflared sent the request to the rule\'s origin and got no HTTP response back; the error after the colon says why',
    source: 'cloudflared proxy/proxy.go proxyHTTPRequest: "Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: <error>"',
    codes: PATH_CODES,
    weight: 40,
    generic: true,
  },
  {
    id: 'gateway-error',
    means: 'a proxy answered for an upstream it could not use (502 from cloudflared, 503 from Envoy); without a flag or reason the line does not say which failure it was',
    source: "cloudflared answers 502 when the origin fails; Envoy's local replies are 503 (flags UC, UF, UH, URX) and 404 (NR)",
    codes: PATH_CODES,
    weight: 20,
    generic: true,
  },
  {
    id: 'timeout',
    means: 'no answer in time: a slow or stuck origin, a NetworkPolicy or firewall dropping packets; none of tunnelmesh\'s configuration rules explains a timeout by itself',
    source: 'Envoy flag UT (upstream request timeout, 504); Go "i/o timeout", "context deadline exceeded"',
    codes: [],
    weight: 60,
  },
];

const byId = new Map(CLASSES.map((c) => [c.id, c]));

function cls(id: string): SymptomClass {
  return byId.get(id) as SymptomClass;
}

/** [class id, pattern]: the words that say it. */
const PATTERNS: Array<[string, RegExp]> = [
  ['tls-to-plaintext', /WRONG_VERSION_NUMBER|wrong version number/i],
  ['tls-to-plaintext', /server gave HTTP response to HTTPS client/i],
  ['plaintext-to-tls', /malformed HTTP response \\?"?\\x15\\x03/i],
  ['plaintext-to-tls', /plain HTTP request was sent to HTTPS port|Client sent an HTTP request to an HTTPS server/i],
  ['tls-rejected', /CERTIFICATE_VERIFY_FAILED|SSLV3_ALERT_HANDSHAKE_FAILURE|TLSV1_ALERT_[A-Z_]+|certificate signed by unknown authority|x509: |tls: bad certificate|certificate required|tls: handshake failure/i],
  ['filter-chain-not-found', /filter_chain_not_found/i],
  ['upstream-reset', /reset reason: (connection termination|remote reset)|connection_termination|remote_reset|connection reset by peer|ECONNRESET|peer closed connection|(?:^|[:\s])(?:unexpected )?EOF\b/i],
  ['connect-failure', /reset reason: (?:remote )?connection failure|connection_failure/i],
  ['connection-refused', /connection refused|ECONNREFUSED|Connection_refused/i],
  ['no-healthy-upstream', /no healthy upstream|no_healthy_upstream/i],
  ['no-route', /route_not_found/i],
  ['no-cluster', /cluster_not_found/i],
  ['http2-goaway', /http2: server sent GOAWAY/i],
  ['http2-mismatch', /http2: frame too large|reset reason: protocol error|protocol_error|PRI \* HTTP\/2\.0|HTTP_1_1_REQUIRED|malformed HTTP response \\?"?\\x00\\x00/i],
  ['dns', /no such host/i],
  ['origin-unreachable', /Unable to reach the origin service/i],
  ['timeout', /i\/o timeout|context deadline exceeded|upstream request timeout|Client\.Timeout exceeded/i],
];

/** `tls: first record does not look like a TLS handshake` is written by both ends of a Go TLS connection. */
const FIRST_RECORD = /first record does not look like a TLS handshake/i;

/** Response flags in the line: after the status code (Istio's text access log), or a `response_flags` field (its JSON log). */
export function responseFlags(line: string): string[] {
  const out = new Set<string>();
  const fields = /"?response_flags"?\s*[:=]\s*"?([A-Z,]+)"?/g;
  for (const m of line.matchAll(fields)) for (const f of (m[1] as string).split(',')) if (KNOWN_FLAGS.has(f)) out.add(f);
  const afterStatus = /\b[1-5]\d\d\s+([A-Z]{2,5}(?:,[A-Z]{2,5})*)(?=\s|$)/g;
  for (const m of line.matchAll(afterStatus)) {
    const flags = (m[1] as string).split(',');
    if (flags.every((f) => KNOWN_FLAGS.has(f))) for (const f of flags) out.add(f);
  }
  return [...out];
}

/** The HTTP status in the line, when one stands where access logs put it. */
export function statusCode(line: string): number | undefined {
  const m = /"\s+([1-5]\d\d)\s|"?response_code"?\s*[:=]\s*"?([1-5]\d\d)\b|\b(50[234])\b/.exec(line);
  const code = m ? (m[1] ?? m[2] ?? m[3]) : undefined;
  return code ? Number(code) : undefined;
}

/** Every class the line shows, strongest first. */
export function classifyLine(line: string): SymptomMatch[] {
  const found = new Map<string, string>();
  const add = (id: string, matched: string): void => {
    if (!found.has(id)) found.set(id, matched);
  };
  for (const [id, re] of PATTERNS) {
    const m = re.exec(line);
    if (m) add(id, m[0].trim());
  }
  const first = FIRST_RECORD.exec(line);
  if (first) add(/TLS handshake error from/i.test(line) ? 'plaintext-to-tls' : 'tls-to-plaintext', first[0]);
  for (const f of responseFlags(line)) {
    const id = FLAG_CLASSES[f];
    if (id) add(id, `response flag ${f}`);
  }
  const code = statusCode(line);
  const specific = [...found.keys()].some((id) => id !== 'origin-unreachable' && id !== 'timeout');
  if (code !== undefined && (code === 502 || code === 503) && !specific) add('gateway-error', `HTTP ${code}`);
  if (code === 504) add('timeout', 'HTTP 504');
  // The router's local reply without a reason names both possibilities.
  if (/upstream connect error or disconnect\/reset before headers/i.test(line) && !found.has('upstream-reset') && !found.has('connect-failure')) {
    add('upstream-reset', 'upstream connect error or disconnect/reset before headers');
    add('connect-failure', 'upstream connect error or disconnect/reset before headers');
  }
  return [...found.entries()].map(([id, matched]) => ({ cls: cls(id), matched })).sort((a, b) => b.cls.weight - a.cls.weight);
}
