// The bounds of src/core/limits.ts on their own: sizes, the alias walk (bombs, cycles,
// depth through aliases, honest sharing), the alias gate in every place YAML lets an alias
// stand, and the JSON depth scan's handling of strings.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import jsyaml from 'js-yaml';
import { checkAliases, formatSize, jsonTooDeepAt, LimitError, loadYaml, MAX_NESTING_DEPTH, mayHaveAliases, parseJson, parseSize } from '../../src/core/limits.js';

/** A billion-laughs body: 10 levels of 10 aliases each (10^10 nodes expanded). */
function bomb(indent: string): string {
  const lines = [`${indent}l0: &l0 [x, x, x, x, x, x, x, x, x, x]`];
  for (let i = 1; i <= 9; i++) lines.push(`${indent}l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]`);
  return lines.join('\n');
}

describe('limits', () => {
  test('sizes: Kubernetes-style quantities, and how they are shown', () => {
    assert.equal(parseSize('256Mi'), 256 * 1024 ** 2);
    assert.equal(parseSize('1Gi'), 1024 ** 3);
    assert.equal(parseSize('500M'), 500e6);
    assert.equal(parseSize('64k'), 64e3);
    assert.equal(parseSize('1048576'), 1048576);
    assert.equal(parseSize('1.5Mi'), 1.5 * 1024 ** 2);
    for (const bad of ['', 'lots', '-1Mi', '0', 'Mi', '1Ti']) assert.equal(parseSize(bad), undefined, bad);
    assert.equal(formatSize(256 * 1024 ** 2), '256 MiB');
    assert.equal(formatSize(1536), '1.5 KiB');
    assert.equal(formatSize(12), '12 bytes');
  });

  test('an alias bomb is refused wherever in YAML an alias may stand', () => {
    const spots = [
      `${bomb('')}\n`,
      `a:\n${bomb('  ')}\n`,
      `list:\n- x\n- {${bomb('').split('\n').join(', ')}}\n`,
      `${bomb('')}\nuse: [*l9, *l9]\n`,
      `${bomb('')}\nuse:\n- *l9\n`,
      `${bomb('')}\nuse: {k: *l9}\n`,
      `${bomb('')}\nuse:\n  <<: {m: *l9}\n`,
      `${bomb('')}\nuse: [x,*l9]\n`,
      `${bomb('')}\nuse: !!seq [*l9]\n`,
    ];
    for (const text of spots) {
      assert.throws(() => loadYaml(text), (err: unknown) => err instanceof LimitError && /alias bomb/.test(err.message), text);
    }
  });

  test('a cycle through an alias is refused', () => {
    for (const text of ['a: &x\n  b: *x\n', '&x [ *x ]\n', 'a: &x {b: [c, *x]}\n']) {
      assert.throws(() => loadYaml(text), (err: unknown) => err instanceof LimitError && /cycle/.test(err.message), text);
    }
  });

  test('aliases that nest a document past the depth limit are refused (each anchor alone is shallow)', () => {
    const levels = Math.ceil(MAX_NESTING_DEPTH / 50) + 1;
    const deep = (n: number): string => `${'['.repeat(n)}x${']'.repeat(n)}`;
    const lines = [`a0: &a0 ${deep(50)}`];
    for (let i = 1; i < levels; i++) lines.push(`a${i}: &a${i} ${deep(49).replace('x', `*a${i - 1}`)}`);
    assert.throws(() => loadYaml(lines.join('\n')), (err: unknown) => err instanceof LimitError && /deeper than/.test(err.message));
  });

  test('honest sharing passes, and merge keys merge (as go-yaml, and so kubectl, does)', () => {
    const text = 'defaults: &d {cpu: 1, mem: 2}\na: {<<: *d, x: 1}\nb:\n  <<: *d\n  mem: 3\nlist: [*d, *d, *d]\n';
    const value = loadYaml(text) as { a: Record<string, number>; b: Record<string, number>; list: unknown[] };
    assert.deepEqual(value.a, { cpu: 1, mem: 2, x: 1 });
    assert.deepEqual(value.b, { cpu: 1, mem: 3 });
    assert.equal(value.list.length, 3);
  });

  test('the alias gate: every alias makes the walk happen; "&&", quoted globs and URLs do not', () => {
    for (const text of ['a: *x', '- *x', '[*x]', '{a: *x}', '[a,*x]', '? *x\n: v', 'a:\n  <<: *x', '*x']) assert.ok(mayHaveAliases(text), text);
    for (const text of ['cmd: sh -c "a && b"', 'command: [sh, -c, a && b]', "hosts: ['*']", 'hosts: ["*.local"]', 'url: http://x/a*b', 'glob: /tmp/*', 'x: a * b']) {
      assert.ok(!mayHaveAliases(text), text);
    }
  });

  test('property: whenever js-yaml shares a node, the gate saw an alias (any style js-yaml writes)', () => {
    const shares = (root: unknown): boolean => {
      const seen = new Set<object>();
      const walk = (v: unknown): boolean => {
        if (typeof v !== 'object' || v === null) return false;
        if (seen.has(v)) return true;
        seen.add(v);
        return Object.values(v).some(walk);
      };
      return walk(root);
    };
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.array(fc.nat(), { maxLength: 4 }), fc.integer({ min: -1, max: 3 }), (base, places, flowLevel) => {
        // Reuse one subtree in several places: js-yaml's dumper writes &ref_N and *ref_N for it.
        const shared = { shared: base, list: [base] };
        const doc: Record<string, unknown> = { first: shared };
        places.forEach((p, i) => (doc[`k${i}`] = p % 2 ? shared : [shared, { inner: shared }]));
        const text = jsyaml.dump(doc, { flowLevel });
        const value = jsyaml.load(text);
        if (shares(value)) assert.ok(mayHaveAliases(text), text);
      }),
      { seed: 20261123, numRuns: 300 },
    );
  });

  test('checkAliases on a shared DAG counts expanded nodes without expanding them', () => {
    // Each of the 41 distinct arrays counts how often it is walked: 2^40 walks would be expansion.
    let walks = 0;
    const counted = (items: unknown[]): unknown[] =>
      new Proxy(items, {
        get(target, prop, receiver) {
          if (prop === Symbol.iterator && ++walks > 1000) throw new Error('walked the expansion');
          return Reflect.get(target, prop, receiver);
        },
      });
    let node: unknown = counted(['x']);
    for (let i = 0; i < 40; i++) node = counted([node, node]);
    assert.throws(() => checkAliases(node as object), /alias bomb/);
    assert.ok(walks <= 41, `2^40 nodes were counted, not walked (${walks} walks)`);
  });

  test('JSON depth: brackets in strings and escaped quotes do not count; the index of the first too-deep level', () => {
    const shallow = JSON.stringify({ s: '[[[[{{{{', t: 'a \\" [[[ \\\\', u: [[1]] });
    assert.equal(jsonTooDeepAt(shallow), -1);
    const text = `{"a": ${'['.repeat(MAX_NESTING_DEPTH)}${']'.repeat(MAX_NESTING_DEPTH)}}`;
    assert.equal(jsonTooDeepAt(text), 6 + MAX_NESTING_DEPTH - 1);
    assert.throws(() => parseJson(text), LimitError);
    assert.deepEqual(parseJson('{"a": [1]}'), { a: [1] });
  });

  test('js-yaml in use has maxDepth (4.3+): without it, nesting is not bounded while parsing', () => {
    assert.throws(() => loadYaml(`${'['.repeat(MAX_NESTING_DEPTH + 1)}${']'.repeat(MAX_NESTING_DEPTH + 1)}`), (err: unknown) => err instanceof jsyaml.YAMLException && /maxDepth/.test(err.reason));
    assert.doesNotThrow(() => loadYaml(`${'['.repeat(MAX_NESTING_DEPTH - 1)}${']'.repeat(MAX_NESTING_DEPTH - 1)}`));
  });
});
