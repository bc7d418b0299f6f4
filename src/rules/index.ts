// The rule catalogue: one list, in code order. Docs, `tunnelmesh rules` and SARIF read it.

import { tm101 } from './catalog/tm101-mtls-to-uncaptured-port.js';
import { tm102 } from './catalog/tm102-plaintext-to-strict.js';
import { tm103 } from './catalog/tm103-forced-mtls-to-plaintext-target.js';
import { tm104 } from './catalog/tm104-uncaptured-port-exposed.js';
import { tm105 } from './catalog/tm105-unknown-istio-annotation.js';
import { tm201 } from './catalog/tm201-tunnel-client-without-sidecar.js';
import type { Rule } from './types.js';

export const RULES: readonly Rule[] = [tm101, tm102, tm103, tm104, tm105, tm201];

export function ruleByCode(code: string): Rule | undefined {
  const upper = code.toUpperCase();
  return RULES.find((r) => r.meta.code === upper || r.meta.name === code);
}
