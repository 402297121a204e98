#!/usr/bin/env node
'use strict';
// `npm run setup`: the one step that installs system packages for ndsampler. Nothing else does:
// `npm install` only checks (scripts/install.js) and points here when something is missing.
//
//   node scripts/setup.js               build packages + dev packages (tests, benchmarks, CI)
//   node scripts/setup.js --build-only  only what building the addon needs
//   node scripts/setup.js --check       install nothing; list what is missing, exit 1 if any
//
// Uses only Node built-ins, so it runs before `npm install` (no node_modules needed).
// On Debian/Ubuntu as root it runs `apt-get update` and `apt-get install` for the missing
// packages only; when everything is present it does nothing (a few dpkg-query calls).
// Not root, or no apt: it prints the exact command to run and exits 1 if anything is missing.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');

// What building the addon needs (cmake-js against the system GDAL).
const BUILD = [
  { pkg: 'libgdal-dev', why: "GDAL's headers and gdal-config", cmd: ['gdal-config', '--version'] },
  { pkg: 'cmake', why: 'the build system cmake-js drives', cmd: ['cmake', '--version'] },
  { pkg: 'g++', why: 'the C++ compiler', cmd: ['g++', '--version'] },
  { pkg: 'make', why: "cmake's generator", cmd: ['make', '--version'] },
];
// What the tests, benchmarks and CI need on top.
const DEV = [
  { pkg: 'gdal-bin', why: 'gdalinfo/gdal_translate in tests', cmd: ['gdalinfo', '--version'] },
  { pkg: 'python3-numpy', why: 'numpy cross-checks', cmd: ['/usr/bin/python3', '-c', 'import numpy'] },
  { pkg: 'python3-gdal', why: 'GDAL-Python cross-checks', cmd: ['/usr/bin/python3', '-c', 'from osgeo import gdal'] },
  { pkg: 'clang', why: 'sanitizer builds', cmd: ['clang', '--version'] },
  { pkg: 'clang-format', why: 'npm run format:check', cmd: ['clang-format', '--version'] },
  { pkg: 'libclang-rt-14-dev', why: "clang's sanitizer runtimes", cmd: null },
  { pkg: 'pkg-config', why: 'binding.gyp (node-gyp build check)', cmd: ['pkg-config', '--version'] },
];

const args = process.argv.slice(2);
const unknown = args.filter((a) => !['--build-only', '--check', '--help', '-h'].includes(a));
if (unknown.length || args.includes('--help') || args.includes('-h')) {
  process.stdout.write('usage: node scripts/setup.js [--build-only] [--check]\n');
  process.exit(unknown.length ? 2 : 0);
}
const wanted = args.includes('--build-only') ? BUILD : BUILD.concat(DEV);
const checkOnly = args.includes('--check');
const log = (m) => process.stdout.write(`setup: ${m}\n`);

const run = (cmd, argv, opts = {}) => {
  try {
    return spawnSync(cmd, argv, { stdio: 'ignore', ...opts }).status === 0;
  } catch {
    return false;
  }
};
const hasDpkg = run('dpkg-query', ['--version']);
const hasApt = fs.existsSync('/usr/bin/apt-get');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

// dpkg knows exactly which packages are installed; elsewhere fall back to the commands they provide.
function present(item) {
  if (hasDpkg) {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', item.pkg], { encoding: 'utf8' });
    return r.status === 0 && /install ok installed/.test(r.stdout);
  }
  return item.cmd ? run(item.cmd[0], item.cmd.slice(1)) : false;
}

const missing = wanted.filter((w) => !present(w));
if (missing.length === 0) {
  log(`all ${wanted.length} system packages present (${wanted.map((w) => w.pkg).join(' ')})`);
  process.exit(0);
}
const names = missing.map((m) => m.pkg);
const installCmd = `apt-get install -y --no-install-recommends ${names.join(' ')}`;
for (const m of missing) log(`missing ${m.pkg} (${m.why})`);

if (checkOnly) process.exit(1);
if (!hasApt) {
  log(`no apt-get here: install the equivalents of ${names.join(', ')} with your package manager.`);
  process.exit(1);
}
if (!isRoot) {
  log(`not root; run:\n  sudo apt-get update && sudo ${installCmd}`);
  process.exit(1);
}

const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const apt = (argv) => spawnSync('apt-get', argv, { stdio: ['ignore', 'inherit', 'inherit'], env }).status === 0;
log(`apt-get update && ${installCmd}`);
if (!apt(['update', '-qq']) || !apt(['install', '-y', '-qq', '--no-install-recommends', ...names])) {
  log(`apt-get failed (see above). The command was:\n  apt-get update && ${installCmd}`);
  process.exit(1);
}
const still = wanted.filter((w) => !present(w)).map((w) => w.pkg);
if (still.length) {
  log(`still missing after apt-get: ${still.join(' ')}`);
  process.exit(1);
}
log(`installed ${names.join(' ')}`);
