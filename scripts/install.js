#!/usr/bin/env node
'use strict';
// npm's install step for ndsampler. It installs nothing on the system: it checks that the build's
// tools are there (gdal-config from GDAL's development files, cmake, make, a C++ compiler) and, if
// one is missing, stops with the exact command that installs it. Then it builds the addon with
// cmake-js into build/Release/ndsampler.node.
//
// npm runs a dependency's install script in the background and shows its output only when it
// fails (unless --foreground-scripts), so a build of a minute would be a minute of silence. The
// one-line notices below (what is built, roughly how long, then how long it took) go to the
// terminal itself (/dev/tty) when there is one and npm is not already showing our output; to
// stderr otherwise (a foreground or failed run, CI logs).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const env = process.env;
const silent = env.npm_config_loglevel === 'silent';
const foreground = env.npm_config_foreground_scripts === 'true' || !env.npm_lifecycle_event;

/** Writes one notice where the user will see it now (see above). */
function notice(text) {
  if (silent) return;
  const line = `ndsampler: ${text}\n`;
  if (!foreground) {
    try {
      const fd = fs.openSync('/dev/tty', 'w');
      try {
        fs.writeSync(fd, line);
        return;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // no controlling terminal (CI, a pipe): stderr, which npm shows on failure or when asked
    }
  }
  process.stderr.write(line);
}

const works = (cmd, args) => {
  try { return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0; } catch { return false; }
};
const output = (cmd, args) => {
  try {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : '';
  } catch {
    return '';
  }
};
const cxx = env.CXX ? [env.CXX] : ['g++', 'c++', 'clang++'];
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

// About 100 s of compiling on one core (measured: ~50 s on 2), spread over the cores make uses.
const cores = Math.max(1, Math.min(os.availableParallelism ? os.availableParallelism() : os.cpus().length, 16));
const estimate = Math.max(15, Math.round(100 / cores / 5) * 5);
const sources = fs.readdirSync(path.join(root, 'native'), { recursive: true }).filter((f) => String(f).endsWith('.cc')).length;
notice(`building the native addon (${sources} C++ files against GDAL ${output('gdal-config', ['--version']) || '?'}, ` +
  `with cmake-js): about ${estimate} s on ${cores} core${cores === 1 ? '' : 's'}. npm shows no output until it is done; ` +
  '`npm install --foreground-scripts` shows the compiler\'s.');
const t0 = Date.now();
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  process.stderr.write('ndsampler: building the native addon failed (see above). ' +
    'Check that `gdal-config --version` and `cmake --version` work, then run `npm rebuild ndsampler` ' +
    '(or `npm run build:native` in a checkout).\n');
  process.exit(1);
}
notice(`native addon built in ${Math.round((Date.now() - t0) / 1000)} s (${path.join('build', 'Release', 'ndsampler.node')}).`);
