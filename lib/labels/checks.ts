/** Argument checks shared by CocoSampler's methods (the validator's rules, lib/validate.ts). */
import * as v from '../validate';

/** An annotation box [x, y, w, h] in pixel-edge coordinates (COCO's bbox). */
export type Box = [x: number, y: number, w: number, h: number];

/** A box argument, checked: four finite numbers, w and h >= 0. */
export function checkBox(box: unknown, name: string): Box {
  if (!Array.isArray(box) || box.length !== 4) throw v.typeError('a box [x, y, w, h]', name, box);
  const b = box.map((x, i) => {
    const n = v.number(x, `${name}[${i}]`);
    if (!Number.isFinite(n)) throw v.rangeError('a finite number', `${name}[${i}]`, x);
    return n;
  }) as Box;
  if (b[2] < 0 || b[3] < 0) throw v.rangeError('a box with w, h >= 0', name, box);
  return b;
}

export function checkThresh(x: unknown, name: string): number {
  if (x === undefined) return 0;
  const t = v.number(x, name);
  if (!(t >= 0 && t <= 1)) throw v.rangeError('a number in [0, 1]', name, x);
  return t;
}

