#!/usr/bin/env node
'use strict';
// `npm run format:check`: clang-format --dry-run --Werror on every .cc/.h under native/ (recursively),
// with the style of the project's .clang-format. Changes nothing; exits 1 on any difference.
// Fix with: clang-format -i <the files it names>.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const fail = (m) => { process.stderr.write(`format:check: ${m}\n`); process.exit(1); };

const bin = process.env.CLANG_FORMAT || 'clang-format';
const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
if (v.error || v.status !== 0) fail(`${bin} not found: run \`npm run setup\` (installs clang-format)`);
// Without a style file clang-format silently uses LLVM's style: insist on the project's.
if (!['.clang-format', 'native/.clang-format'].some((f) => fs.existsSync(path.join(root, f)))) {
  fail('no .clang-format at the project root (or in native/)');
}
const files = fs.readdirSync(path.join(root, 'native'), { recursive: true })
  .map(String)
  .filter((f) => /\.(cc|h)$/.test(f))
  .map((f) => path.join('native', f))
  .sort();
if (files.length === 0) fail('no .cc/.h files under native/');
const r = spawnSync(bin, ['--dry-run', '--Werror', '--style=file', ...files], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) fail(`${files.length} files checked; formatting differs (above). Fix: clang-format -i <file>`);
process.stdout.write(`format:check: ${files.length} files under native/ match .clang-format (${v.stdout.trim()})\n`);
