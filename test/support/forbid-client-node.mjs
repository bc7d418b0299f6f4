// `node --import` hook: any attempt to load @kubernetes/client-node fails the run.
// Offline runs (-f, --help, --version) must never pay for its import.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`export async function resolve(specifier, context, next) {
      if (specifier.startsWith('@kubernetes/client-node')) throw new Error('offline run imported @kubernetes/client-node');
      return next(specifier, context);
    }`),
);
