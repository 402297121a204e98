/**
 * Remote image paths: which paths are remote, and the GDAL virtual path each URL form maps to.
 *
 * - `https://…`, `http://…` → `/vsicurl/https://…` (range requests on any HTTP server);
 * - `s3://bucket/key` → `/vsis3/bucket/key`, `gs://` → `/vsigs/`, `az://` → `/vsiaz/`;
 * - GDAL's own remote virtual paths (`/vsicurl/`, `/vsis3/`, ...) are used as they are.
 *
 * Pure functions; any thread.
 */

const SCHEMES: Readonly<Record<string, string>> = {
  'http:': '/vsicurl/http:', 'https:': '/vsicurl/https:', 's3:': '/vsis3', 'gs:': '/vsigs', 'az:': '/vsiaz',
};

/** GDAL's virtual file systems that reach a server (and their `_streaming` twins). */
const REMOTE_VSI = /^\/vsi(curl|s3|gs|az|adls|oss|swift|webhdfs)(_streaming)?\//;

/** True for the URL forms this library maps onto GDAL (`https://`, `http://`, `s3://`, `gs://`, `az://`). */
export function isUrl(p: string): boolean {
  const m = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(p);
  return m !== null && SCHEMES[m[1].toLowerCase()] !== undefined;
}

/** True for a URL form or a remote GDAL virtual path: no inode, identity from the server. */
export function isRemote(p: string): boolean {
  return isUrl(p) || REMOTE_VSI.test(p);
}

/** True for any path that is not a local file name: a URL form or any GDAL virtual path (`/vsi…`). */
export function isVirtual(p: string): boolean {
  return isUrl(p) || p.startsWith('/vsi');
}

/** The GDAL path of `p`: URL forms mapped (see the module comment), anything else unchanged. */
export function toGdalPath(p: string): string {
  const m = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(p);
  if (m === null) return p;
  const mapped = SCHEMES[m[1].toLowerCase()];
  if (mapped === undefined) return p;
  // http(s): keep the whole URL after /vsicurl/; s3/gs/az: /vsis3/<bucket>/<key>
  return mapped.startsWith('/vsicurl/') ? `/vsicurl/${p}` : `${mapped}/${p.slice(m[0].length)}`;
}

/** `<prefix>/<key>` with exactly one slash between them (prefix may be a URL form or a /vsi path). */
export function joinKey(prefix: string, key: string): string {
  return `${prefix.replace(/\/+$/, '')}/${key.replace(/^\/+/, '')}`;
}
