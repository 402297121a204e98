// The second machine of test/remote.test.ts: a fresh process with an empty workdir that reads a
// published cache. argv[2] is JSON {port, prefix, workdir, images: {id: path}, region, stage?,
// viaJson?} (viaJson: the object is sent through toJSON / Frames.fromJSON first, as to a worker);
// prints JSON {crops: {id: hex of the crop's bytes}, entriesBuilt, staged}.
import * as fs from 'node:fs';
import { Frames } from '../lib/frames/frames';
import { SimpleFrames } from '../lib/frames/simple-frames';
import { listFiles } from './_frames-util';
import { useS3 } from './_remote-util';

const a = JSON.parse(process.argv[2]) as {
  port: number; prefix: string; workdir: string; images: Record<string, string>; region: number[][]; stage?: number; viaJson?: boolean;
};
useS3(a.port);
const remoteCache = a.stage === undefined ? a.prefix : { url: a.prefix, stage: { maxBytes: a.stage } };
const made = new SimpleFrames(a.images, { workdir: a.workdir, backend: 'cog', remoteCache });
const frames = a.viaJson ? Frames.fromJSON(JSON.stringify(made.toJSON())) : made;
const crops: Record<string, string> = {};
for (const id of frames.imageIds) {
  const r = frames.loadRegion(id, a.region as never);
  crops[String(id)] = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).toString('hex');
}
frames.close();
const files = fs.existsSync(a.workdir) ? listFiles(a.workdir) : [];
process.stdout.write(JSON.stringify({
  crops,
  entriesBuilt: files.filter((f) => f.includes('frames') && f.endsWith('.cog.tif')).length,
  staged: files.filter((f) => f.includes('staged') && f.endsWith('.cog.tif')).length,
}) + '\n');
