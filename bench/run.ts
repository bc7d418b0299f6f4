// `npm run bench`: whole-process timings of tunnelmesh against the unavoidable cost of reading
// its input, measured side by side in one run (medians), with peak memory and growth from 1× to
// 4×. Never part of `npm test`'s pass/fail. BENCH_RUNS (default 3) and BENCH_SCALES (default
// "1,4") tune it; BENCH_LIVE=0 skips the live comparison.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jsyaml from 'js-yaml';
import { KINDS } from '../src/core/kinds.js';
import { startApiServer } from '../test/support/apiserver.js';
import { writeKubeconfig } from '../test/support/kubeconfig.js';
import { asJsonList, generatedNamespace, generateCluster } from './generate.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/tunnelmesh');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SCALES = (process.env.BENCH_SCALES ?? '1,4').split(',').map(Number);
const LIVE = process.env.BENCH_LIVE !== '0';
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

interface Sample {
  seconds: number;
  maxRssMb: number | undefined;
}

function once(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Sample> {
  const started = process.hrtime.bigint();
  const argv = GNU_TIME ? ['-f', '%e %M', cmd, ...args] : args;
  const file = GNU_TIME ?? cmd;
  return new Promise((resolve, reject) => {
    execFile(file, argv, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, maxBuffer: 1 << 30 }, (err, _stdout, stderr) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const code = (err as { code?: unknown } | null)?.code;
      // doctor exits 1 when it finds errors: that is a result, not a failure.
      if (err && code !== 1) return reject(new Error(`${cmd} ${args.join(' ')} failed: ${String(stderr).slice(-500)}`));
      const last = String(stderr).trim().split('\n').at(-1) ?? '';
      const m = /^([\d.]+) (\d+)$/.exec(last);
      resolve({ seconds, maxRssMb: m ? Number(m[2]) / 1024 : undefined });
    });
  });
}

async function median(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Sample> {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await once(cmd, args, env));
  samples.sort((a, b) => a.seconds - b.seconds);
  const mid = samples[Math.floor(samples.length / 2)] as Sample;
  const rss = samples.map((s) => s.maxRssMb).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  return { seconds: mid.seconds, maxRssMb: rss[Math.floor(rss.length / 2)] };
}

interface Row {
  what: string;
  ours: Sample;
  baseline?: { name: string; sample: Sample };
  target?: { ratio: number };
  note?: string;
}

const rows: Row[] = [];
const fmt = (s: number): string => `${s.toFixed(2)} s`;
const mb = (s: Sample): string => (s.maxRssMb === undefined ? '?' : `${s.maxRssMb.toFixed(0)} MB`);

function report(): void {
  const lines = ['| measurement | tunnelmesh | baseline | ratio | target | peak RSS |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const ratio = r.baseline ? r.ours.seconds / r.baseline.sample.seconds : undefined;
    const verdict = r.target && ratio !== undefined ? (ratio <= r.target.ratio ? `≤ ${r.target.ratio}× ✓` : `≤ ${r.target.ratio}× ✗`) : '';
    lines.push(
      `| ${r.what} | ${fmt(r.ours.seconds)} | ${r.baseline ? `${r.baseline.name} ${fmt(r.baseline.sample.seconds)}` : ''} | ${ratio !== undefined ? `${ratio.toFixed(2)}×` : ''} | ${verdict}${r.note ? ` ${r.note}` : ''} | ${mb(r.ours)} |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const dir = join(tmpdir(), 'tunnelmesh-bench');
  mkdirSync(dir, { recursive: true });
  process.stdout.write(`tunnelmesh bench — node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, median of ${RUNS}\n\n`);

  // Startup.
  const nodeStart = await median(process.execPath, ['-e', '0']);
  rows.push({ what: 'tunnelmesh --version', ours: await median(process.execPath, [BIN, '--version']), baseline: { name: 'node -e 0', sample: nodeStart }, target: { ratio: 2 } });
  rows.push({ what: 'doctor -f fixtures/demo', ours: await median(process.execPath, [BIN, 'doctor', '-f', 'fixtures/demo', '-o', 'json']), baseline: { name: 'node -e 0', sample: nodeStart }, target: { ratio: 2 } });

  const offlineBy = new Map<number, Sample>();
  for (const scale of SCALES) {
    const objects = generateCluster(scale);
    const json = join(dir, `cluster-${scale}x.json`);
    const yaml = join(dir, `cluster-${scale}x.yaml`);
    if (!existsSync(json)) writeFileSync(json, asJsonList(objects));
    if (!existsSync(yaml)) writeFileSync(yaml, objects.map((o) => jsyaml.dump(o, { lineWidth: -1, noRefs: true })).join('---\n'));
    const size = `${objects.length} objects, ${(statSync(json).size / 2 ** 20).toFixed(1)} MB JSON`;
    process.stdout.write(`scale ${scale}×: ${size}\n`);

    const jsonBase = await median(process.execPath, ['-e', 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))', json]);
    const jsonOurs = await median(process.execPath, [BIN, 'doctor', '-A', '-f', json, '-o', 'json', '--fail-on', 'none']);
    offlineBy.set(scale, jsonOurs);
    const memTarget = (statSync(json).size / 2 ** 20) * 3;
    rows.push({
      what: `${scale}× offline JSON (${size})`,
      ours: jsonOurs,
      baseline: { name: 'JSON.parse', sample: jsonBase },
      target: { ratio: 2 },
      note: jsonOurs.maxRssMb !== undefined ? `(RSS ${jsonOurs.maxRssMb <= memTarget ? '✓' : '✗'} ≤ 3× input = ${memTarget.toFixed(0)} MB)` : '',
    });
    const yamlBase = await median(process.execPath, ['-e', 'require("js-yaml").loadAll(require("fs").readFileSync(process.argv[1], "utf8"))', yaml]);
    rows.push({ what: `${scale}× offline YAML`, ours: await median(process.execPath, [BIN, 'doctor', '-A', '-f', yaml, '-o', 'json', '--fail-on', 'none']), baseline: { name: 'js-yaml loadAll', sample: yamlBase }, target: { ratio: 1.5 } });

    if (LIVE && scale === SCALES[0]) {
      const server = await startApiServer({ objects, latencyMs: 5 });
      try {
        const kubeconfig = writeKubeconfig(server);
        const ours = await median(process.execPath, [BIN, 'doctor', '-A', '-o', 'json', '--fail-on', 'none'], { KUBECONFIG: kubeconfig });
        const kubectl = await findKubectl();
        const kinds = KINDS.map((k) => (k.group ? `${k.plural}.${k.group}` : k.plural)).join(',');
        const baseline = kubectl ? await median(kubectl, ['--kubeconfig', kubeconfig, 'get', kinds, '-A', '-o', 'json'], { KUBECONFIG: kubeconfig }).catch(() => undefined) : undefined;
        rows.push({ what: `${scale}× live doctor -A (TLS, 5 ms per request)`, ours, ...(baseline ? { baseline: { name: 'kubectl get -A -o json', sample: baseline }, target: { ratio: 0.3 } } : { note: 'kubectl not installed: no baseline' }) });
        // -n: one namespace's kinds, the evidence elsewhere, and the cluster-wide search for
        // hand-written connectors (Deployments, DaemonSets, StatefulSets running cloudflared).
        const ns = generatedNamespace(0);
        const scoped = await median(process.execPath, [BIN, 'doctor', '-n', ns, '-o', 'json', '--fail-on', 'none'], { KUBECONFIG: kubeconfig });
        const nsKinds = KINDS.filter((k) => k.namespaced).map((k) => (k.group ? `${k.plural}.${k.group}` : k.plural)).join(',');
        const nsBaseline = kubectl ? await median(kubectl, ['--kubeconfig', kubeconfig, 'get', nsKinds, '-n', ns, '-o', 'json'], { KUBECONFIG: kubeconfig }).catch(() => undefined) : undefined;
        rows.push({ what: `${scale}× live doctor -n ${ns} (with the connector search)`, ours: scoped, ...(nsBaseline ? { baseline: { name: `kubectl get -n ${ns} -o json`, sample: nsBaseline } } : {}) });
        if (kubectl) {
          const search = await median(kubectl, ['--kubeconfig', kubeconfig, 'get', 'deployments,daemonsets,statefulsets', '-A', '-o', 'json'], { KUBECONFIG: kubeconfig }).catch(() => undefined);
          if (search) rows.push({ what: `${scale}× what the connector search lists (kubectl get deployments,daemonsets,statefulsets -A)`, ours: search });
        }
      } finally {
        await server.close();
      }
    }
  }
  if (SCALES.length > 1) {
    const [a, b] = [SCALES[0] as number, SCALES.at(-1) as number];
    const growth = (offlineBy.get(b)?.seconds ?? 0) / (offlineBy.get(a)?.seconds ?? 1);
    const limit = ((b / a) * 4.5) / 4;
    rows.push({ what: `growth ${a}× → ${b}× (offline JSON)`, ours: offlineBy.get(b) as Sample, note: `${growth.toFixed(2)}× time for ${b / a}× input (target ≤ ${limit.toFixed(1)}×) ${growth <= limit ? '✓' : '✗'}` });
  }
  process.stdout.write('\n');
  report();
}

async function findKubectl(): Promise<string | undefined> {
  for (const p of ['/usr/local/bin/kubectl', '/usr/bin/kubectl']) if (existsSync(p)) return p;
  return undefined;
}

await main();
