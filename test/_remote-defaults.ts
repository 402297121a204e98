// The child of test/remote-codes.test.ts: a fresh process opens the URL argv[2] with openImage (and
// nothing else remote), then prints the GDAL config values of REMOTE_DEFAULTS' keys as JSON.
import { REMOTE_DEFAULTS } from '../lib/gdal';
import { native } from '../lib/native';
import { openImage } from '../lib/readers';

const before = Object.fromEntries(Object.keys(REMOTE_DEFAULTS).map((k) => [k, native.getConfigOption(k)]));
openImage(process.argv[2]).close();
const after = Object.fromEntries(Object.keys(REMOTE_DEFAULTS).map((k) => [k, native.getConfigOption(k)]));
process.stdout.write(JSON.stringify({ before, after }) + '\n');
