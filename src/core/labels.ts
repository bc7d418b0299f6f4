// Kubernetes label selectors, as the API server evaluates them.

import type { LabelSelector, StringMap } from './k8s.js';

/** Equality selector (`Service.spec.selector`, Istio `matchLabels`): every pair must match. */
export function matchesLabels(selector: StringMap, labels: StringMap): boolean {
  for (const [key, value] of Object.entries(selector)) {
    if (labels[key] !== value) return false;
  }
  return true;
}

/** Full `LabelSelector` with matchExpressions (workload `spec.selector`). */
export function matchesSelector(selector: LabelSelector, labels: StringMap): boolean {
  if (selector.matchLabels && !matchesLabels(selector.matchLabels, labels)) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, req.key);
    const value = labels[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!has || !values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false; // an unknown operator selects nothing, as the API server rejects it
    }
  }
  return true;
}

export function isEmptySelector(selector: StringMap | undefined): boolean {
  return !selector || Object.keys(selector).length === 0;
}

export function formatLabels(labels: StringMap): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
