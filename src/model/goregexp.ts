// cloudflared's `path` is a Go regexp (regexp.Compile, RE2 syntax, matched unanchored with
// MatchString). JavaScript's RegExp differs — `(?i)`, `[[:alpha:]]`, `\pL`, `\z` and `{n,1001}` mean
// other things or fail, lookarounds and backreferences work — so paths are compiled by re2js, a
// port of RE2 with Go's syntax and error messages. It is loaded on first use only (a config with
// path regexps): measured ~6–14 ms to require, ~0.14 ms a compile.

import { createRequire } from 'node:module';
import type { RE2JS as RE2JSClass } from 're2js';

type Re2Module = { RE2JS: typeof RE2JSClass };

let loaded: Re2Module | undefined;

function re2(): Re2Module {
  // External to the bundle (scripts/build.mjs) and required synchronously: rules are synchronous.
  loaded ??= createRequire(import.meta.url)('re2js') as Re2Module;
  return loaded;
}

interface Compiled {
  test: (input: string) => boolean;
  error?: string;
}

/** Literal text, `/`, `-`, `_` and the anchors mean the same in Go and JavaScript: no engine needed. */
const LITERAL = /^\^?[A-Za-z0-9/_-]*\$?$/;

const cache = new Map<string, Compiled>();

function compile(pattern: string): Compiled {
  let c = cache.get(pattern);
  if (c) return c;
  if (LITERAL.test(pattern)) {
    const js = new RegExp(pattern);
    c = { test: (s) => js.test(s) };
  } else {
    try {
      const re = re2().RE2JS.compile(pattern);
      c = { test: (s) => re.test(s) };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      c = { test: () => false, error: message };
    }
  }
  cache.set(pattern, c);
  return c;
}

/** Go's regexp.Compile error (`error parsing regexp: missing closing ): `(abc``), or undefined when it compiles. */
export function goRegexpProblem(pattern: string): string | undefined {
  return compile(pattern).error;
}

/** regexp.MatchString: does the pattern match anywhere in `input`? A pattern Go refuses matches nothing. */
export function goRegexpMatches(pattern: string, input: string): boolean {
  return compile(pattern).test(input);
}
