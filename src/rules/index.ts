// The rule catalogue: one list, in code order. Docs, `tunnelmesh rules` and SARIF read it.

import { tm101 } from './catalog/tm101-mtls-to-uncaptured-port.js';
import { tm102 } from './catalog/tm102-plaintext-to-strict.js';
import { tm103 } from './catalog/tm103-forced-mtls-to-plaintext-target.js';
import { tm104 } from './catalog/tm104-uncaptured-port-exposed.js';
import { tm105 } from './catalog/tm105-unknown-istio-annotation.js';
import { tm201 } from './catalog/tm201-tunnel-client-without-sidecar.js';
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
import type { Rule } from './types.js';

export const RULES: readonly Rule[] = [
  tm101,
  tm102,
  tm103,
  tm104,
  tm105,
  tm201,
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
];

export function ruleByCode(code: string): Rule | undefined {
  const upper = code.toUpperCase();
  return RULES.find((r) => r.meta.code === upper || r.meta.name === code);
}
