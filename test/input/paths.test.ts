// What -f meets on disk besides plain files: symbolic links in a directory (followed, each real
// file and directory read once, loops and dangling links skipped with a word) and named pipes
// (read like process substitution; one no program writes to is refused after --request-timeout
// instead of hanging the run).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, openSync, closeSync, constants, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { assertErrorDocument, demoTexts, jsonOf, runInProcess, stderrLines } from '../support/cli.js';
import { lazyTempDir } from '../support/tmp.js';

const root = lazyTempDir('paths');
let count = 0;
const fresh = (): string => {
  const dir = join(root(), `case-${++count}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

describe('symbolic links in a -f directory', () => {
  test('a symlinked manifest and a symlinked directory are read (the demo split across links: TM101 found)', async () => {
    const dir = fresh();
    const elsewhere = fresh();
    const texts = demoTexts();
    // Half the demo as links to files kept elsewhere, the rest behind a link to a directory.
    texts.forEach((t, i) => {
      if (i % 2 === 0) {
        writeFileSync(join(elsewhere, t.name), t.text);
        symlinkSync(join(elsewhere, t.name), join(dir, `link-${t.name}`));
      }
    });
    const sub = fresh();
    texts.forEach((t, i) => i % 2 === 1 && writeFileSync(join(sub, t.name), t.text));
    symlinkSync(sub, join(dir, 'more'));
    const run = await runInProcess(['doctor', '-o', 'json', '-f', dir]);
    assert.equal(run.code, 1, run.stderr);
    assert.ok(jsonOf(run).findings.some((f) => f.code === 'TM101'), run.stdout);
    assert.equal(run.stderr, '', 'nothing skipped, nothing to say');
  });

  test('a link loop, a link to a file read already, and a dangling link: each skipped with a word, never read twice', async () => {
    const dir = fresh();
    for (const t of demoTexts()) writeFileSync(join(dir, t.name), t.text);
    mkdirSync(join(dir, 'nested'));
    symlinkSync('..', join(dir, 'nested', 'up'));
    symlinkSync('.', join(dir, 'self'));
    symlinkSync(join(dir, '30-app.yaml'), join(dir, 'zz-again.yaml'));
    symlinkSync(join(dir, 'nowhere.yaml'), join(dir, 'dangling.yaml'));
    const run = await runInProcess(['doctor', '-o', 'json', '-f', dir]);
    assert.equal(run.code, 1, run.stderr);
    const warnings = stderrLines(run);
    assert.ok(warnings.some((l) => l.includes(`${join(dir, 'nested', 'up')}: a symbolic link to ${dir}, a directory already read`)), run.stderr);
    assert.ok(warnings.some((l) => l.includes(`${join(dir, 'self')}: a symbolic link to ${dir}, a directory already read`)), run.stderr);
    assert.ok(warnings.some((l) => l.includes(`${join(dir, 'zz-again.yaml')}: a symbolic link to ${join(dir, '30-app.yaml')}, a file already read`)), run.stderr);
    assert.ok(warnings.some((l) => l.includes(`${join(dir, 'dangling.yaml')}: a symbolic link to nothing`)), run.stderr);
    assert.ok(!warnings.some((l) => /duplicate of/.test(l)), 'no object was read twice');
    assert.deepEqual(jsonOf(run).findings.filter((f) => f.code === 'TM101').length, 1);
  });
});

describe('named pipes (FIFO) given to -f', () => {
  test('with a writer: read like <(helm template …)', async () => {
    const fifo = join(fresh(), 'manifests.fifo');
    execFileSync('mkfifo', [fifo]);
    const text = demoTexts().map((t) => t.text).join('\n---\n');
    // -o json with a finding: the SARIF/JSON locator looks for lines in the text, which a pipe cannot give twice.
    const reading = runInProcess(['doctor', '-o', 'json', '-f', fifo]);
    // The writer opens (non-blocking, once our read-open is waiting) and writes everything.
    let fd = -1;
    for (let i = 0; i < 10_000 && fd < 0; i++) {
      try {
        fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    assert.ok(fd >= 0, 'the reader opened the FIFO');
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; ) {
      try {
        at += writeSync(fd, bytes, at);
      } catch {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    closeSync(fd);
    const run = await reading;
    assert.equal(run.code, 1, run.stderr);
    assert.ok(jsonOf(run).findings.some((f) => f.code === 'TM101'));
  });

  test('without a writer: exit 2 after --request-timeout, one line (it hung for ever before)', async () => {
    const fifo = join(fresh(), 'nobody-writes.fifo');
    execFileSync('mkfifo', [fifo]);
    const run = await runInProcess(['doctor', '-o', 'json', '-f', fifo, '--request-timeout', '300ms']);
    assert.equal(run.code, 2, run.stderr);
    assert.deepEqual(stderrLines(run), [`tunnelmesh: ${fifo}: a named pipe (FIFO) that no program opened for writing within 300 ms (--request-timeout)`]);
    assertErrorDocument(run, 2);
  });

  test('a FIFO inside a -f directory is skipped with a word (only one named on its own is read)', async () => {
    const dir = fresh();
    writeFileSync(join(dir, '00-demo.yaml'), demoTexts().map((t) => t.text).join('\n---\n'));
    execFileSync('mkfifo', [join(dir, 'zz-pipe.yaml')]);
    const run = await runInProcess(['doctor', '-o', 'json', '-f', dir]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(stderrLines(run), [`tunnelmesh: warning: ${join(dir, 'zz-pipe.yaml')}: not a regular file (a named pipe, socket or device): skipped; give it to -f on its own to read it`]);
  });
});
