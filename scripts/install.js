#!/usr/bin/env node
'use strict';
// npm's install step for ndsampler. It installs nothing on the system: it checks that the build's
// tools are there (gdal-config from GDAL's development files, cmake, make, a C++ compiler) and, if
// one is missing, stops with the exact command that installs it. Then it builds the addon with
// cmake-js into build/Release/ndsampler.node.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const works = (cmd, args) => {
  try { return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0; } catch { return false; }
};
const cxx = process.env.CXX ? [process.env.CXX] : ['g++', 'c++', 'clang++'];
const checks = [
  { what: 'gdal-config (GDAL development files)', pkg: 'libgdal-dev', ok: () => works('gdal-config', ['--version']) },
  { what: 'cmake', pkg: 'cmake', ok: () => works('cmake', ['--version']) },
  { what: 'make', pkg: 'make', ok: () => works('make', ['--version']) },
  { what: `a C++ compiler (${cxx.join(', ')})`, pkg: 'g++', ok: () => cxx.some((c) => works(c, ['--version'])) },
];
const missing = checks.filter((c) => !c.ok());
if (missing.length) {
  const pkgs = missing.map((m) => m.pkg).join(' ');
  process.stderr.write(
    `ndsampler: cannot build the native addon: missing ${missing.map((m) => m.what).join(', ')}.\n` +
    'npm install does not install system packages. Install them with:\n' +
    '  npm run setup                 (in an ndsampler checkout; as root, or it prints the sudo command)\n' +
    `  sudo apt-get update && sudo apt-get install -y ${pkgs}   (Debian/Ubuntu)\n` +
    'then run npm install again (or `npm rebuild ndsampler` where ndsampler is a dependency).\n');
  process.exit(1);
}

const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  process.stderr.write('ndsampler: building the native addon failed (see above). ' +
    'Check that `gdal-config --version` and `cmake --version` work, then run `npm rebuild ndsampler` ' +
    '(or `npm run build:native` in a checkout).\n');
  process.exit(1);
}
