// Names a user typed that match nothing: say so, with the closest existing name.

/** "namespace App does not exist (…); did you mean app? Namespaces: a, b" */
export function unknownNamespaceMessage(namespace: string, existing: string[], why: string): string {
  const names = [...new Set(existing)].sort();
  const guess = closestName(namespace, names);
  const shown = names.slice(0, 20).join(', ') + (names.length > 20 ? `, … (${names.length} in all)` : '');
  return `namespace ${namespace} does not exist (${why})${guess ? `; did you mean ${guess}?` : names.length ? '.' : ''}${names.length ? ` Namespaces: ${shown}` : ''}`;
}

export function closestName(word: string, candidates: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word.toLowerCase(), c.toLowerCase());
    if (d <= Math.max(2, Math.floor(word.length / 3)) && (!best || d < best.distance || (d === best.distance && c < best.name))) best = { name: c, distance: d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length] as number;
}

