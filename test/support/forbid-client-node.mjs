// `node --import` hook: any attempt to load @kubernetes/client-node fails the run, and so does
// loading yaml or diff (the --fix-diff libraries). Offline runs (-f, --help, --version) must never
// pay for the client's import, and no run but --fix-diff for the other two.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`export async function resolve(specifier, context, next) {
      if (specifier.startsWith('@kubernetes/client-node')) throw new Error('offline run imported @kubernetes/client-node');
      if (specifier === 'yaml' || specifier === 'diff' || specifier.startsWith('yaml/') || specifier.startsWith('diff/')) throw new Error('a run without --fix-diff imported ' + specifier);
      return next(specifier, context);
    }`),
);
