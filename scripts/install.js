#!/usr/bin/env node
'use strict';
// npm's install step for ndsampler: make sure GDAL's development files and cmake are present
// (installing them with apt where it can), then build the addon with cmake-js.
// A failure says what is missing and the exact command that fixes it.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { ensure } = require('../tools/sysdeps/ensure.js');

const root = path.resolve(__dirname, '..');
if (!ensure()) process.exit(1);
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  process.stderr.write('ndsampler: building the native addon failed (see above). ' +
    'Check that `gdal-config --version` and `cmake --version` work, then run `npm rebuild ndsampler` ' +
    '(or `npm run build:native` in a checkout).\n');
  process.exit(1);
}
