#!/usr/bin/env node
'use strict';
// Development only (run by the root package's `prepare`, which npm never runs for users who install
// ndsampler from the registry): builds the dev dependency gdal-async from source against the system
// GDAL. gdal-async is the independent GDAL binding the tests cross-check pixels with and the
// benchmark's peer.
//
// Why here and not in gdal-async's own install script: that script downloads a prebuilt binary
// from GitHub (unreachable from this project's machines) and falls back to compiling its bundled
// GDAL (tens of minutes) unless npm config keys `build_from_source` / `shared_gdal` are set, which
// npm 11 warns about ("Unknown project/env config ... will stop working in the next major
// version"). So package.json#allowScripts denies gdal-async's scripts, and this runs its
// node-pre-gyp with explicit command-line flags instead: `rebuild --shared_gdal=true`.
//
// Idempotent: does nothing when gdal-async already loads. Skips when gdal-async is not installed
// (npm install --omit=dev).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const log = (m) => process.stderr.write(`gdal-async: ${m}\n`);

let pkgJson;
try {
  pkgJson = require.resolve('gdal-async/package.json', { paths: [root] });
} catch {
  process.exit(0);  // not installed: dev dependencies omitted
}
const dir = path.dirname(pkgJson);
const loads = () => spawnSync(process.execPath, ['-e', "require('gdal-async')"], { cwd: root, stdio: 'ignore' }).status === 0;
if (loads() && !process.argv.includes('--force')) process.exit(0);

const preGyp = require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp', { paths: [dir] });
const argv = [preGyp, 'rebuild', '--shared_gdal=true', '--jobs=max'];
// Node's own headers, where the Node install ships them (e.g. /usr/include/node): node-gyp would
// otherwise download them.
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi'))) argv.push(`--nodedir=${prefix}`);
log(`building from source against the system GDAL (about 1.5 minutes): node-pre-gyp ${argv.slice(1).join(' ')}`);
const r = spawnSync(process.execPath, argv, { cwd: dir, stdio: 'inherit' });
if (r.status !== 0 || !loads()) {
  log('the build failed (see above). It needs libgdal-dev, g++ and make: `npm run setup`, then ' +
      '`node scripts/gdal-async.js --force`.');
  process.exit(1);
}
