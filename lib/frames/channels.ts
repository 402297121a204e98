/**
 * Channel specs with kwcoco's grammar (kwcoco.channel_spec / delayed_image FusedChannelSpec):
 *
 * - `|` joins channels into one early-fused stream, in the order given: `'red|green|blue'`.
 * - Aliases: `rgb` = `r|g|b`, `rgba` = `r|g|b|a`, `dxdy` = `dx|dy`, `fxfy` = `fx|fy`.
 * - `name.a:b` is `name.a|name.a+1|...|name.b-1` (kwcoco's chan_getslice_ab): `B.1:4` = `B.1|B.2|B.3`.
 * - `name:n` is `name.0|...|name.n-1` (chan_getslice_0b): `B1:3` = `B1.0|B1.1|B1.2`, `feat:8` = `feat.0` ... `feat.7`.
 * - `name.i` is one channel named `name.i`.
 * - `'<all>'` (in a request) is every channel of the image.
 *
 * A comma (late fusion: separate streams) is not one array and is refused. Pure functions on the
 * calling thread.
 */
import { FramesError } from '../errors';
import * as v from '../validate';

/** kwcoco's aliases of common early-fused codes. */
export const CHANNEL_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  rgb: 'r|g|b',
  rgba: 'r|g|b|a',
  dxdy: 'dx|dy',
  fxfy: 'fx|fy',
});

/** The request for every channel of an image. */
export const ALL_CHANNELS = '<all>';

// An identifier as kwcoco's grammar has it: a letter, '_' or '*', then letters, digits, '_', '-', '*', ' '.
const IDEN = '[A-Za-z_*][A-Za-z0-9_* -]*';
const SLICE_AB = new RegExp(`^(${IDEN})\\.(\\d+):(\\d+)$`);
const SLICE_0B = new RegExp(`^(${IDEN}):(\\d+)$`);
const GETITEM = new RegExp(`^${IDEN}\\.\\d+$`);
const SINGLE = new RegExp(`^${IDEN}$`);

/** Most channels one slice may name (a guard against 'x:1000000000'). */
const MAX_SLICE = 65536;

function specError(spec: string, why: string): FramesError {
  return new FramesError('ERR_CHANNELS', `invalid channel spec '${spec}': ${why}`);
}

function range(name: string, a: number, b: number, spec: string): string[] {
  if (b < a) throw specError(spec, `the slice ${a}:${b} is empty`);
  if (b - a > MAX_SLICE) throw specError(spec, `the slice ${a}:${b} names more than ${MAX_SLICE} channels`);
  return Array.from({ length: b - a }, (_, i) => `${name}.${a + i}`);
}

/** The channel names of one `|`-free code. */
function expandCode(code: string, spec: string): string[] {
  const alias = CHANNEL_ALIASES[code];
  if (alias !== undefined) return alias.split('|');
  let m = SLICE_AB.exec(code);
  if (m !== null) return range(m[1], Number(m[2]), Number(m[3]), spec);
  m = SLICE_0B.exec(code);
  if (m !== null) return range(m[1], 0, Number(m[2]), spec);
  if (GETITEM.test(code) || SINGLE.test(code)) return [code];
  throw specError(spec, `'${code}' is not a channel name (a letter, '_' or '*' first; then letters, digits, '_', '-', '*', spaces)`);
}

/**
 * The channel names of an early-fused spec, in order: `'rgb|B.1:3|feat:2'` ->
 * `['r', 'g', 'b', 'B.1', 'B.2', 'feat.0', 'feat.1']`. Throws FramesError ERR_CHANNELS for a
 * malformed spec (an empty part, a comma, a bad name).
 */
export function parseChannels(spec: string): string[] {
  v.string(spec, 'channels');
  if (spec.includes(',')) {
    throw specError(spec, "',' separates late-fused streams, which are not one array (request each stream on its own)");
  }
  const out: string[] = [];
  for (const part of spec.split('|')) {
    const code = part.trim();
    if (code.length === 0) throw specError(spec, 'it has an empty part');
    out.push(...expandCode(code, spec));
  }
  return out;
}

/** The normalised form of a spec: its channel names joined by `|` (`'rgb'` -> `'r|g|b'`). */
export function normalizeChannels(spec: string): string {
  return parseChannels(spec).join('|');
}

/** parseChannels that returns null instead of throwing (for specs that may be free-form names). */
export function tryParseChannels(spec: string): string[] | null {
  try {
    return parseChannels(spec);
  } catch {
    return null;
  }
}
