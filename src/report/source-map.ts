// helm's `# Source:` comments name chart-relative paths (`gateway/templates/deploy.yaml`,
// `gateway/charts/redis/templates/x.yaml` for a subchart); a repository has the chart
// somewhere else (`charts/gateway/`). One mapping, for every output that points into the
// user's files (SARIF, code quality, JSON locations, and issue 13's --fix-diff):
//
// - `--chart-dir DIR`: the chart's own directory. The first segment (the chart's name) is
//   replaced by DIR: `gateway/templates/x.yaml` → `DIR/templates/x.yaml`.
// - `--source-root DIR`: the directory holding the chart directories (as `helm template
//   ./charts/gateway` sees `gateway` under `./charts`): `DIR/gateway/templates/x.yaml`.

import { posix } from 'node:path';

export interface SourceMapOptions {
  chartDir?: string;
  sourceRoot?: string;
}

/** The path of a template in the repository, or undefined when no mapping is given. */
export function templatePath(template: string, opts: SourceMapOptions): string | undefined {
  const source = template.replace(/\\/g, '/').replace(/^\.\//, '');
  if (opts.chartDir !== undefined) {
    const slash = source.indexOf('/');
    const inChart = slash < 0 ? source : source.slice(slash + 1);
    return posix.normalize(posix.join(opts.chartDir.replace(/\\/g, '/'), inChart));
  }
  if (opts.sourceRoot !== undefined) return posix.normalize(posix.join(opts.sourceRoot.replace(/\\/g, '/'), source));
  return undefined;
}

export function hasSourceMap(opts: SourceMapOptions): boolean {
  return opts.chartDir !== undefined || opts.sourceRoot !== undefined;
}
