// The BUILT package as users load it: `require('ndsampler')` and `import('ndsampler')` resolved by
// name through package.json's `exports` map (Node's package self-reference), each in a child
// process running plain `node` (no tsx), from a .cjs and a .mjs file inside the package. Both faces
// expose the same names (and the same objects: one copy of the library), the names of the public
// API contract are there, and `types` points to an existing .d.ts that declares them.
// Builds dist/ first when it is missing or older than lib/.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureBuilt } from './_helpers/built';

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const entry = pkg.exports['.'];

/** The runtime names of the public API contract (shared/API.md) that this version implements. */
const API_NAMES = ['openImage', 'writeNpy', 'writeCog', 'Frames', 'SimpleFrames', 'AlignableImageData', 'NdsamplerError', 'encode', 'encodeAsync'];
/** Static members the contract names, as `Class.member`. */
const API_STATICS = ['Frames.coerceBackendConfig', 'Frames.buildFileHashid', 'Frames.fromJSON', 'Frames.DEFAULT_NPY_CONFIG',
  'Frames.DEFAULT_COG_CONFIG', 'SimpleFrames.demo'];

// Snippets run from test/.fixtures/ (inside the package, git-ignored): a bare 'ndsampler' there
// resolves through the package's own `exports`.
const dir = path.join(root, 'test', '.fixtures', `package-${process.pid}`);

const CJS = `'use strict';
const m = require('ndsampler');
const statics = ${JSON.stringify(API_STATICS)}.filter((s) => { const [c, k] = s.split('.'); return m[c] && m[c][k] !== undefined; });
process.stdout.write(JSON.stringify({
  resolved: require.resolve('ndsampler'),
  names: Object.keys(m).sort(),
  kinds: Object.fromEntries(Object.keys(m).map((k) => [k, typeof m[k]])),
  statics,
  version: require('ndsampler/package.json').version,
}));
`;

const MJS = `import * as m from 'ndsampler';
import { createRequire } from 'node:module';
const cjs = createRequire(import.meta.url)('ndsampler');
const names = Object.keys(m).filter((k) => k !== 'default').sort();
process.stdout.write(JSON.stringify({
  resolved: import.meta.resolve('ndsampler'),
  names,
  sameObjects: names.filter((k) => m[k] !== cjs[k]),
  defaultIsCjs: m.default === cjs,
}));
`;

function run(file: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.is(r.status, 0, `node ${path.basename(file)} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

let cjs: Record<string, unknown>;
let esm: Record<string, unknown>;

test.before(() => {
  ensureBuilt([entry.require, entry.import, entry.types]);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'self.cjs'), CJS);
  fs.writeFileSync(path.join(dir, 'self.mjs'), MJS);
  cjs = run(path.join(dir, 'self.cjs'));
  esm = run(path.join(dir, 'self.mjs'));
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('package.json: the exports map has types, import and require entries; main, types and bin point into dist/', () => {
  assert.equal(Object.keys(entry).sort(), ['import', 'require', 'types']);
  assert.ok(Object.keys(pkg.exports).includes('./package.json'));
  assert.is(Object.keys(entry)[0], 'types', '`types` comes first, as TypeScript requires');
  assert.is(pkg.main, entry.require);
  assert.is(pkg.types, entry.types);
  for (const f of [pkg.main, pkg.types, entry.import, pkg.bin.ndsampler]) {
    assert.ok(fs.existsSync(path.join(root, f)), `${f} exists`);
  }
});

test("require('ndsampler') and import('ndsampler') resolve by name through the exports map", () => {
  assert.is(cjs.resolved, path.join(root, entry.require));
  assert.is(esm.resolved, `file://${path.join(root, entry.import)}`);
  assert.is(cjs.version, pkg.version, "require('ndsampler/package.json') works too");
});

test('the CommonJS and ESM faces expose the same set of names, and the same objects (one copy of the library)', () => {
  assert.ok((cjs.names as string[]).length > 20, `a real export list (${(cjs.names as string[]).length} names)`);
  assert.equal(esm.names, cjs.names);
  assert.equal(esm.sameObjects, [], 'names bound to different objects in ESM and CommonJS');
  assert.is(esm.defaultIsCjs, true, 'the default export is the CommonJS module');
});

test('the names of the public API contract are there, with the right kinds', () => {
  const names = cjs.names as string[];
  const kinds = cjs.kinds as Record<string, string>;
  for (const n of API_NAMES) {
    assert.ok(names.includes(n), `'${n}' is exported`);
    assert.is(kinds[n], 'function', `'${n}' is a function or class`);
  }
  assert.equal(cjs.statics, API_STATICS);
});

test('`types` points to an existing .d.ts that declares the contract names', () => {
  const file = path.join(root, entry.types);
  assert.ok(file.endsWith('.d.ts'));
  const dts = fs.readFileSync(file, 'utf8');
  for (const n of [...API_NAMES, 'NDArray', 'Region', 'DType', 'ImageReader', 'BackendSpec']) {
    assert.match(dts, new RegExp(`\\b${n}\\b`), `${entry.types} declares '${n}'`);
  }
  // Every module the index re-exports from has its own .d.ts next to it.
  for (const m of dts.matchAll(/from '(\.\/[^']+)'/g)) {
    assert.ok(fs.existsSync(path.join(path.dirname(file), `${m[1]}.d.ts`)), `${m[1]}.d.ts exists`);
  }
});

test.run();
