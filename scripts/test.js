#!/usr/bin/env node
'use strict';
// Runs every test file (test/*.test.ts) in its own node process (with --expose-gc, TypeScript
// through tsx), after making sure the addon is built and the numpy fixtures exist, and prints
// one closing line: "N passed, N failed, N skipped". Under CI=true a skipped test fails the run.
//   node scripts/test.js [name-filter ...]
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const filters = process.argv.slice(2);
const addon = path.join(root, 'build', 'Release', 'ndsampler.node');
if (!fs.existsSync(addon)) {
  const r = spawnSync(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--out', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) {
  const r = spawnSync('npm', ['run', 'build:ts'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}

const files = fs.readdirSync(path.join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const f of files) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--expose-gc', '-r', 'tsx/cjs', path.join('test', f)], {
    cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, maxBuffer: 64 * 1024 * 1024,
  });
  const out = (r.stdout || '') + (r.stderr || '');
  const num = (label) => {
    const m = out.match(new RegExp(`${label}:\\s+(\\d+)`));
    return m ? Number(m[1]) : 0;
  };
  const total = num('Total');
  const p = num('Passed');
  const s = num('Skipped');
  let fl = total - p - s;
  if (r.status !== 0 && fl === 0) fl = 1;  // crashed or failed outside a test
  passed += p; failed += fl; skipped += s;
  const status = r.status === 0 && fl === 0 ? 'ok  ' : 'FAIL';
  process.stdout.write(`${status} ${f}  (${p} passed, ${fl} failed, ${s} skipped, ${Date.now() - t0} ms)\n`);
  const skipLines = out.split('\n').filter((l) => /^SKIP /.test(l));
  for (const l of skipLines) process.stdout.write(`     ${l}\n`);
  if (status === 'FAIL') failures.push(`---- ${f} (exit ${r.status}${r.signal ? ', signal ' + r.signal : ''})\n${out}`);
}
for (const f of failures) process.stdout.write(`\n${f}\n`);
if (process.env.CI && skipped > 0) {
  process.stdout.write(`CI: ${skipped} test(s) skipped; CI installs every dependency, so a skip is a failure\n`);
  failed += skipped;
}
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed > 0 ? 1 : 0);
