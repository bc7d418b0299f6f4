// Array helpers for inputs of any size. `target.push(...items)` and `Math.max(...items)` pass
// every element as an argument on the stack: about 126,000 of them (a large `kind: List`) end
// in "Maximum call stack size exceeded". src/ has no spread into a call (a test checks).

/** Appends `items` to `target` one by one; returns target. */
export function pushAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}

/** The largest of `values`, or `empty` when there are none. */
export function maxOf(values: Iterable<number>, empty = 0): number {
  let max: number | undefined;
  for (const v of values) if (max === undefined || v > max) max = v;
  return max ?? empty;
}
