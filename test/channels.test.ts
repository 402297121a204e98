// kwcoco's channel grammar (lib/frames/channels.ts): every form, and its errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FramesError } from '../lib/errors';
import { ALL_CHANNELS, normalizeChannels, parseChannels } from '../lib/frames/channels';
import { expectCode } from './_helpers/errors';

test('| fuses in the order given', () => {
  assert.equal(parseChannels('red|green|blue'), ['red', 'green', 'blue']);
  assert.equal(parseChannels('b|a'), ['b', 'a']);
  assert.equal(parseChannels(' nir | swir '), ['nir', 'swir']);
});

test('aliases rgb, rgba, dxdy, fxfy', () => {
  assert.equal(parseChannels('rgb'), ['r', 'g', 'b']);
  assert.equal(parseChannels('rgba'), ['r', 'g', 'b', 'a']);
  assert.equal(parseChannels('dxdy'), ['dx', 'dy']);
  assert.equal(parseChannels('fxfy'), ['fx', 'fy']);
  assert.equal(parseChannels('rgb|nir'), ['r', 'g', 'b', 'nir']);
});

test('name.a:b is name.a ... name.(b-1); name:n is name.0 ... name.(n-1)', () => {
  assert.equal(parseChannels('B.1:4'), ['B.1', 'B.2', 'B.3']);
  assert.equal(parseChannels('B1:3'), ['B1.0', 'B1.1', 'B1.2']);
  assert.equal(parseChannels('feat:8'), Array.from({ length: 8 }, (_, i) => `feat.${i}`));
  assert.equal(parseChannels('feat.3'), ['feat.3']);
  assert.equal(parseChannels('x.2:2'), []);
  assert.equal(normalizeChannels('rgb|B.0:2|u:1'), 'r|g|b|B.0|B.1|u.0');
});

test('names may hold _, -, * and spaces, as kwcoco allows', () => {
  assert.equal(parseChannels('_a-b*c|my chan'), ['_a-b*c', 'my chan']);
  assert.is(ALL_CHANNELS, '<all>');
});

test('malformed specs are FramesError ERR_CHANNELS', () => {
  for (const bad of ['a||b', 'a|', 'a,b', '1abc', 'B.3:1', 'x:99999999', 'a.b:c', '<all>|r']) {
    expectCode(() => parseChannels(bad), FramesError, 'ERR_CHANNELS', bad);
  }
  try {
    parseChannels(3 as unknown as string);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, TypeError);
  }
});

test.run();
