/** An ordered map of image id -> value, keyed canonically (1 and '1' are one image); for Frames subclasses. */
import type { ImageId } from '../cache/config';
import { FramesError } from '../errors';
import { idKey } from './pathinfo';

export class IdMap<T> {
  readonly #ids: ImageId[] = [];
  readonly #values = new Map<string, T>();

  /** Adds an image; an id given twice is FramesError ERR_PATHINFO (`where` names the source). */
  add(id: ImageId, value: T, where = ''): void {
    const key = idKey(id);
    if (this.#values.has(key)) throw new FramesError('ERR_PATHINFO', `${where}image id ${key} is given twice`);
    this.#values.set(key, value);
    this.#ids.push(id);
  }

  /** The ids in insertion order (a frozen array: O(1), shared between calls). */
  get ids(): ImageId[] {
    if (!Object.isFrozen(this.#ids)) Object.freeze(this.#ids);
    return this.#ids;
  }

  get size(): number {
    return this.#ids.length;
  }

  has(id: ImageId): boolean {
    return this.#values.has(idKey(id));
  }

  get(id: ImageId): T | undefined {
    return this.#values.get(idKey(id));
  }
}
