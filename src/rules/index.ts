// The rule catalogue: one list, in code order. Docs, `tunnelmesh rules` and SARIF read it.

import { tm101 } from './catalog/tm101-mtls-to-uncaptured-port.js';
import { tm102 } from './catalog/tm102-plaintext-to-strict.js';
import { tm103 } from './catalog/tm103-forced-mtls-to-plaintext-target.js';
import { tm104 } from './catalog/tm104-uncaptured-port-exposed.js';
import { tm105 } from './catalog/tm105-unknown-istio-annotation.js';
import { tm106 } from './catalog/tm106-invalid-port-level-mtls.js';
import { tm107 } from './catalog/tm107-port-key-mismatch.js';
import { tm108 } from './catalog/tm108-invalid-capture-annotation.js';
import { tm201 } from './catalog/tm201-tunnel-client-without-sidecar.js';
import { tm202 } from './catalog/tm202-sidecar-startup-race.js';
import { tm203 } from './catalog/tm203-missing-sidecar.js';
import { tm204 } from './catalog/tm204-mixed-sidecar-backends.js';
import { tm205 } from './catalog/tm205-reserved-port.js';
import { tm206 } from './catalog/tm206-unmeshable-pod.js';
import { tm207 } from './catalog/tm207-pod-without-service.js';
import { tm208 } from './catalog/tm208-conflicting-port-protocols.js';
import { tm209 } from './catalog/tm209-ambient-sidecar-conflict.js';
import { tm301 } from './catalog/tm301-tunnel-scheme-mismatch.js';
import { tm302 } from './catalog/tm302-tunnel-raw-tcp-scheme.js';
import { tm303 } from './catalog/tm303-tunnel-config-drift.js';
import { tm304 } from './catalog/tm304-http2-origin-missing.js';
import { tm305 } from './catalog/tm305-tunnel-backend-missing.js';
import { tm306 } from './catalog/tm306-tunnel-config-invalid.js';
import { tm307 } from './catalog/tm307-protocol-annotation-ineffective.js';
import { tm308 } from './catalog/tm308-port-protocol-undeclared.js';
import { tm309 } from './catalog/tm309-tunnel-rule-shadowed.js';
import { tm310 } from './catalog/tm310-udp-through-tunnel.js';
import { tm311 } from './catalog/tm311-gateway-rules-overwritten.js';
import { tm401 } from './catalog/tm401-dr-host-unknown.js';
import { tm402 } from './catalog/tm402-subset-undefined.js';
import { tm403 } from './catalog/tm403-duplicate-destination-rules.js';
import { tm404 } from './catalog/tm404-duplicate-peer-authentications.js';
import { tm405 } from './catalog/tm405-selector-matches-nothing.js';
import { tm406 } from './catalog/tm406-service-hidden-by-sidecar.js';
import { tm501 } from './catalog/tm501-envoy-client-disagrees.js';
import { tm502 } from './catalog/tm502-envoy-target-disagrees.js';
import { tm503 } from './catalog/tm503-envoy-dump-stale.js';
import type { Rule } from './types.js';

export const RULES: readonly Rule[] = [
  tm101,
  tm102,
  tm103,
  tm104,
  tm105,
  tm106,
  tm107,
  tm108,
  tm201,
  tm202,
  tm203,
  tm204,
  tm205,
  tm206,
  tm207,
  tm208,
  tm209,
  tm301,
  tm302,
  tm303,
  tm304,
  tm305,
  tm306,
  tm307,
  tm308,
  tm309,
  tm310,
  tm311,
  tm401,
  tm402,
  tm403,
  tm404,
  tm405,
  tm406,
  tm501,
  tm502,
  tm503,
];

export function ruleByCode(code: string): Rule | undefined {
  const upper = code.toUpperCase();
  return RULES.find((r) => r.meta.code === upper || r.meta.name === code);
}
