// The table fits the terminal (under a real pseudo-terminal at 80 and 120 columns, and
// COLUMNS on a pipe), prints the recommended fix in full and names the others, groups one
// workload's pods; -o compact is one line per finding; names from the input never reach the
// terminal as control characters.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import jsyaml from 'js-yaml';
import { displayWidth, stripColour, terminalSafe, wrap } from '../../src/report/terminal-text.js';
import { fitColumns } from '../../src/report/table.js';
import { outputWidth } from '../../src/cli/terminal.js';
import { BIN, cleanEnv, ROOT, runCli } from '../support/bin.js';
import { namespace, pod, service, toYaml } from '../support/build.js';

const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** Runs the bin on a pseudo-terminal of `cols` columns (util-linux `script`); stdout and stderr arrive merged. */
function onTty(cols: number, args: string[], columnsVar?: number): Promise<{ status: number | null; output: string }> {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // COLUMNS is set after stty: the shell under script resets an inherited COLUMNS to the new size.
  const command = `stty cols ${cols} rows 50; ${columnsVar === undefined ? '' : `COLUMNS=${columnsVar} `}${quoted}`;
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: cleanEnv({ CI: undefined }) });
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('close', (status) => resolve({ status, output: output.replace(/\r\n/g, '\n') }));
  });
}

const BORDER_START = /^[┌├└│]/;
const BORDER_END = /[┐┤┘│]$/;

/** Every line fits, and every line of the table starts and ends with a border (none wrapped). */
function assertFits(text: string, width: number): void {
  const lines = stripColour(text).split('\n');
  for (const line of lines) assert.ok(displayWidth(line) <= width, `${displayWidth(line)} > ${width}: ${JSON.stringify(line)}`);
  const table = lines.filter((l) => BORDER_START.test(l));
  assert.ok(table.length >= 5, 'the overview table is there');
  for (const line of table) assert.match(line, BORDER_END, `a table line that wrapped: ${JSON.stringify(line)}`);
  const widths = new Set(table.map((l) => displayWidth(l)));
  assert.equal(widths.size, 1, 'every table line has the same width');
}

describe('the table fits the terminal', () => {
  for (const cols of [80, 120]) {
    test(`a pseudo-terminal of ${cols} columns: no line wider, borders intact, colour on`, { skip: !has('script') && 'util-linux script is not installed' }, async () => {
      const res = await onTty(cols, ['doctor', '-f', 'fixtures/demo', '--fixes', 'all']);
      assert.equal(res.status, 1, res.output);
      assert.match(res.output, /\u001b\[/, 'a terminal gets colour');
      assertFits(res.output, cols);
      assert.match(stripColour(res.output), /fix 3: Stop excluding port 9091/);
    });
  }

  test('the terminal width decides without COLUMNS; COLUMNS wins when set (a wider table on a narrower terminal)', { skip: !has('script') && 'util-linux script is not installed' }, async () => {
    const narrow = await onTty(80, ['doctor', '-f', 'fixtures/demo', '-q']);
    const wide = await onTty(80, ['doctor', '-f', 'fixtures/demo', '-q'], 100);
    const tableWidth = (t: string) => displayWidth(stripColour(t).split('\n').find((l) => l.startsWith('┌')) ?? '');
    assert.ok(tableWidth(narrow.output) <= 80);
    assert.ok(tableWidth(wide.output) > 80 && tableWidth(wide.output) <= 100, `${tableWidth(wide.output)}`);
  });

  test('COLUMNS on a pipe wraps; no width known (a pipe, no COLUMNS): lines are whole for grep', () => {
    const wrapped = runCli(['doctor', '-f', 'fixtures/demo'], { env: { COLUMNS: '60' } });
    assert.equal(wrapped.status, 1);
    assertFits(wrapped.stdout.replace(/\n {6,}[^\n]*: ""/g, ''), 60);
    const whole = runCli(['doctor', '-f', 'fixtures/demo']);
    assert.match(whole.stdout, /\n {2}cloudflared Deployment cloudflare-operator-system\/main-tunnel sends Istio mTLS to Service app\/sg-cloud-gateway port 9091, but .* cannot read\.\n/);
  });

  test('outputWidth: COLUMNS, else a TTY with columns, else none', () => {
    assert.equal(outputWidth({ isTTY: true, columns: 91 }, {}), 91);
    assert.equal(outputWidth({ isTTY: true, columns: 91 }, { COLUMNS: '70' }), 70);
    assert.equal(outputWidth({ isTTY: false }, { COLUMNS: 'wide' }), undefined);
    assert.equal(outputWidth({ isTTY: true, columns: 0 }, {}), undefined);
    assert.equal(outputWidth({}, {}), undefined);
  });

  test('wrap: hanging indents, long words broken at a separator, colour codes have no width', () => {
    assert.deepEqual(wrap('aaa bbb ccc', 7, '- ', '  '), ['- aaa', '  bbb', '  ccc']);
    // A word longer than the room left starts a line of its own, and is broken only when longer than a line.
    assert.deepEqual(wrap('x cloudflare-operator-system/tunnel-config', 20, '', '  '), ['x', '  cloudflare-', '  operator-system/', '  tunnel-config']);
    assert.deepEqual(wrap('\u001b[31mred\u001b[39m text', 8), ['\u001b[31mred\u001b[39m text']);
    assert.equal(displayWidth('日本'), 4);
    for (const line of wrap('a'.repeat(50), 12, '  ', '    ')) assert.ok(displayWidth(line) <= 12, line);
  });

  test('fitColumns: the widest column gives way first, down to its minimum', () => {
    assert.deepEqual(fitColumns([10, 7, 40, 30], [9, 7, 12, 10], 70), [10, 7, 26, 27]);
    assert.deepEqual(fitColumns([10, 7, 40, 30], [9, 7, 12, 10], 200), [10, 7, 40, 30]);
    assert.deepEqual(fitColumns([10, 7, 40, 30], [9, 7, 12, 10], 10), [9, 7, 12, 10]);
  });
});

describe('fixes in the table', () => {
  const table = (extra: string[] = []) => runCli(['doctor', '-f', 'fixtures/demo', ...extra]).stdout;
  const json = JSON.parse(runCli(['doctor', '-f', 'fixtures/demo', '-o', 'json']).stdout) as { findings: Array<{ fixes: Array<{ title: string; yaml: string }> }> };
  const fixes = json.findings[0]!.fixes;

  test('by default: the recommended fix in full, the alternatives by title, and where the rest is', () => {
    const out = table();
    assert.equal(fixes.length, 3, 'the demo has three fixes');
    assert.match(out, /fix 1 \(recommended\): DestinationRule app\/sg-cloud-gateway-9091-no-mtls/);
    assert.match(out, /alternatives \(--fixes all prints them in full; -o json carries them\):\n {4}fix 2: PeerAuthentication .*\n {4}fix 3: Stop excluding port 9091/);
    assert.doesNotMatch(out, /kind: PeerAuthentication/, 'fix 2 is named, not printed');
  });

  test('the recommended fix, copied from the terminal as printed, is the fix itself', () => {
    const lines = table().split('\n');
    const start = lines.findIndex((l) => l.startsWith('  fix 1 (recommended):')) + 1;
    const end = lines.findIndex((l, i) => i > start && !l.startsWith('    '));
    const copied = lines.slice(start, end).join('\n');
    assert.deepEqual(jsyaml.load(copied), jsyaml.load(fixes[0]!.yaml));
  });

  test('--fixes all prints every fix; --fixes none counts them; JSON carries all three either way', () => {
    const all = table(['--fixes', 'all']);
    assert.match(all, /kind: PeerAuthentication/);
    assert.match(all, /kind: Deployment/);
    assert.doesNotMatch(all, /alternatives/);
    const none = table(['--fixes', 'none']);
    assert.doesNotMatch(none, /kind: DestinationRule/);
    assert.match(none, /3 fixes \(--fixes recommended or all prints them; -o json carries them\)/);
    assert.equal(runCli(['doctor', '-f', 'fixtures/demo', '-o', 'json', '--fixes', 'none']).stdout, runCli(['doctor', '-f', 'fixtures/demo', '-o', 'json']).stdout);
  });

  test('the demo prints fewer lines than with every fix in full', () => {
    assert.ok(table().split('\n').length < table(['--fixes', 'all']).split('\n').length - 20);
  });
});

/** Pods dumped without their ReplicaSet (`kubectl get pods -o yaml`), each with the template's misspelled key. */
function dumpedPods(n: number): string {
  const pods = Array.from({ length: n }, (_, i) =>
    pod('app', `web-7d9f8b6c5d-${'abcdefgh'[i]}x${i}`, { owner: 'web', annotations: { 'traffic.istio.io/excludeInboundPorts': '9090' }, ports: [{ port: 8080 }] }),
  );
  return toYaml([namespace('app', { 'istio-injection': 'enabled' }), ...pods, service('app', 'web', [{ name: 'http', port: 8080 }], { selector: { app: 'web' } })]);
}

describe('the same finding on the pods of one workload', () => {
  test('one row and one block naming the workload and its pods; JSON keeps each', () => {
    const input = dumpedPods(3);
    const json = JSON.parse(runCli(['doctor', '-f', '-', '-o', 'json'], { input }).stdout) as { findings: Array<{ code: string; resource: { kind: string } }> };
    const tm105 = json.findings.filter((f) => f.code === 'TM105');
    assert.equal(tm105.length, 3, 'one finding per pod in JSON');
    assert.ok(tm105.every((f) => f.resource.kind === 'Pod'));
    const out = runCli(['doctor', '-f', '-'], { input }).stdout;
    const rows = out.split('\n').filter((l) => /│ TM105 │/.test(l));
    assert.equal(rows.length, 1, out);
    assert.match(rows[0]!, /Deployment app\/web \(3 pods\)/);
    assert.match(out, /the same on pods: web-7d9f8b6c5d-ax0, web-7d9f8b6c5d-bx1, web-7d9f8b6c5d-cx2/);
    assert.equal(out.match(/^WARNING TM105/gm)?.length, 1);
    assert.match(out, /Summary: 0 errors, 3 warnings/, 'counted one by one');
  });

  test('one pod of a workload stays a Pod row', () => {
    const out = runCli(['doctor', '-f', '-'], { input: dumpedPods(1) }).stdout;
    assert.match(out, /│ TM105 │ Pod app\/web-7d9f8b6c5d-ax0/);
  });
});

describe('-o compact', () => {
  test('one line per finding, SEVERITY CODE resource[:port] message; the summary on stderr; the same exit code', () => {
    const compact = runCli(['doctor', '-f', '-', '-o', 'compact'], { input: dumpedPods(2) });
    const json = JSON.parse(runCli(['doctor', '-f', '-', '-o', 'json'], { input: dumpedPods(2) }).stdout) as { findings: Array<{ code: string; severity: string }> };
    const lines = compact.stdout.trimEnd().split('\n');
    assert.equal(lines.length, json.findings.length);
    for (const [i, line] of lines.entries()) {
      assert.match(line, /^(ERROR|WARNING|INFO) TM\d{3} [A-Za-z]+\/[^\s]+ \S.*$/);
      assert.ok(line.startsWith(`${json.findings[i]!.severity.toUpperCase()} ${json.findings[i]!.code} `));
    }
    const demo = runCli(['doctor', '-f', 'fixtures/demo', '-o', 'compact']);
    assert.equal(demo.status, 1);
    assert.match(demo.stdout, /^ERROR TM101 Service\/app\/sg-cloud-gateway:9091 cloudflared Deployment .* cannot read\.\n$/);
    assert.match(demo.stderr, /^tunnelmesh: 1 error, 0 warnings, 0 info\n$/);
    assert.equal(runCli(['doctor', '-f', 'fixtures/demo', '-o', 'compact', '--fail-on', 'none']).status, 0);
  });

  test('listed in the help and the completion', () => {
    assert.match(runCli(['doctor', '--help']).stdout, /compact/);
    assert.match(runCli(['completion', 'bash']).stdout, /table compact json yaml sarif codequality/);
  });
});

describe('names from the input are made safe for the terminal', () => {
  const evil = 'web\u001b[2J\u001b]0;owned\u0007\u202eexe.txt';
  const input = toYaml([
    namespace('app', { 'istio-injection': 'enabled' }),
    pod('app', evil, { annotations: { 'traffic.istio.io/excludeInboundPorts': '9090' }, ports: [{ port: 8080 }] }),
  ]);

  test('table, compact and stderr show escapes, never the raw sequences; colour codes of our own survive', () => {
    for (const args of [['doctor', '-f', '-'], ['doctor', '-f', '-', '-o', 'compact'], ['doctor', '-f', '-', '--color', 'always']]) {
      const res = runCli(args, { input });
      const both = res.stdout + res.stderr;
      assert.match(both, /web\\x1b\[2J\\x1b\]0;owned\\x07\\u202eexe\.txt/, args.join(' '));
      assert.doesNotMatch(both.replace(/\u001b\[[0-9;]*m/g, ''), /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/, args.join(' '));
      if (args.includes('always')) assert.match(res.stdout, /\u001b\[1m/);
    }
  });

  test('JSON keeps the name as it is (escaped by JSON itself)', () => {
    const json = JSON.parse(runCli(['doctor', '-f', '-', '-o', 'json'], { input }).stdout) as { findings: Array<{ resource: { name: string } }> };
    assert.ok(json.findings.some((f) => f.resource.name === evil));
  });

  test('terminalSafe: controls, C1, bidi and line separators shown; our SGR kept only when asked; conceal and cursor codes never', () => {
    assert.equal(terminalSafe('a\u001b[2Jb\rc\u0085d\u2028e\tf\ng'), 'a\\x1b[2Jb\\rc\\x85d\\u2028e\tf\ng');
    assert.equal(terminalSafe('\u001b[31mred\u001b[39m'), '\\x1b[31mred\\x1b[39m');
    assert.equal(terminalSafe('\u001b[31mred\u001b[39m', true), '\u001b[31mred\u001b[39m');
    assert.equal(terminalSafe('\u001b[8mhidden\u001b[41m', true), '\\x1b[8mhidden\\x1b[41m');
  });
});

describe('other terminal output', () => {
  test('tunnelmesh rules fits COLUMNS too', () => {
    for (const cols of [80, 120]) {
      const out = runCli(['rules'], { env: { COLUMNS: String(cols) } }).stdout;
      for (const line of out.split('\n')) assert.ok(displayWidth(line) <= cols, `${cols}: ${line}`);
    }
  });

  test('--chart-dir naming a directory that is not there is said, once', () => {
    const res = runCli(['doctor', '-f', '-', '-o', 'sarif', '--chart-dir', 'charts/nope'], { input: toYaml([namespace('app')]).replace(/^/, '# Source: gw/templates/ns.yaml\n') });
    assert.match(res.stderr, /^tunnelmesh: warning: --chart-dir charts\/nope: charts\/nope\/templates\/ns\.yaml not found: reports point at paths that are not in the repository$/m);
  });
});
