#!/usr/bin/env node
'use strict';
// Makes sure the system packages ndsampler needs are installed, before anything is compiled.
//
//   node ensure.js         what building the addon needs: GDAL's development files and cmake
//   node ensure.js --dev   and what the tests and benchmarks need too: gdal-bin, Debian's numpy
//                          and GDAL Python bindings (for /usr/bin/python3)
//
// Missing packages are installed with apt-get when that can work (root on Debian/Ubuntu);
// otherwise it stops with the exact command to run. Runs in the npm install lifecycle.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');

const quiet = { stdio: 'ignore' };
const ok = (cmd, args) => {
  try { return spawnSync(cmd, args, quiet).status === 0; } catch { return false; }
};

const checks = [
  { pkg: 'libgdal-dev', present: () => ok('gdal-config', ['--version']) },
  { pkg: 'cmake', present: () => ok('cmake', ['--version']) },
  { pkg: 'g++', present: () => ok('g++', ['--version']) },
];
const devChecks = [
  { pkg: 'gdal-bin', present: () => ok('gdalinfo', ['--version']) },
  { pkg: 'python3-numpy', present: () => ok('/usr/bin/python3', ['-c', 'import numpy']) },
  { pkg: 'python3-gdal', present: () => ok('/usr/bin/python3', ['-c', 'from osgeo import gdal']) },
];

function ensure({ dev = false, log = (m) => process.stderr.write(`ndsampler: ${m}\n`) } = {}) {
  const wanted = dev ? checks.concat(devChecks) : checks;
  const missing = wanted.filter((c) => !c.present()).map((c) => c.pkg);
  if (missing.length === 0) return true;
  const cmd = `apt-get install -y ${missing.join(' ')}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = fs.existsSync('/usr/bin/apt-get');
  if (!hasApt) {
    log(`missing system packages: ${missing.join(', ')}. Install GDAL's development files ` +
        '(gdal-config) and cmake with your package manager, then run npm install again.');
    return false;
  }
  if (!isRoot) {
    log(`missing system packages: ${missing.join(', ')}. Run:\n  sudo apt-get update && sudo ${cmd}\n` +
        'then run npm install again.');
    return false;
  }
  log(`installing missing system packages with apt: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env }).status === 0;
  if (!run(['update', '-qq']) || !run(['install', '-y', '-qq', '--no-install-recommends', ...missing])) {
    log(`apt-get failed. Run: apt-get update && ${cmd}`);
    return false;
  }
  const still = wanted.filter((c) => !c.present()).map((c) => c.pkg);
  if (still.length) {
    log(`still missing after apt-get: ${still.join(', ')}`);
    return false;
  }
  return true;
}

module.exports = { ensure };

if (require.main === module) {
  process.exitCode = ensure({ dev: process.argv.includes('--dev') }) ? 0 : 1;
}
