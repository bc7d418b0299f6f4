// Modules loaded only when needed: the Kubernetes client and node:http/https, on the live path.
// bin/start.cjs runs the bundle through vm.Script with V8's code cache; there Node 20 has no
// loader for import() (its option for one is experimental, and a code cache loses it), so the
// starter lends its own import() as globalThis.__tunnelmeshImport.

type Importer = (specifier: string) => Promise<unknown>;

export function lazyImport<T>(specifier: string): Promise<T> {
  const lent = (globalThis as { __tunnelmeshImport?: Importer }).__tunnelmeshImport;
  return (lent ? lent(specifier) : import(specifier)) as Promise<T>;
}
