/**
 * Argument validation with one message formatter: "Expected X for Y but received Z".
 * TypeError for a wrong type, RangeError for a value out of range; both carry `code` as Node's do.
 */

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'no value';
  if (typeof value === 'string') return `string '${value.length > 40 ? value.slice(0, 37) + '...' : value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${String(value)}`;
  }
  if (typeof value === 'function') return 'function';
  if (Array.isArray(value)) {
    // Short arrays of numbers (shapes, sizes, bounds) are shown: "array [224, 224, 4]".
    const short = value.length <= 8 && value.every((x) => x === null || typeof x === 'number');
    return short ? `array [${value.map((x) => String(x)).join(', ')}]` : `array of length ${value.length}`;
  }
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return `${(value as object).constructor?.name ?? 'object'}`;
}

export function message(expected: string, name: string, value: unknown): string {
  return `Expected ${expected} for ${name} but received ${describe(value)}`;
}

export function typeError(expected: string, name: string, value: unknown): TypeError {
  const e = new TypeError(message(expected, name, value));
  (e as TypeError & { code: string }).code = 'ERR_INVALID_ARG_TYPE';
  return e;
}

export function rangeError(expected: string, name: string, value: unknown): RangeError {
  const e = new RangeError(message(expected, name, value));
  (e as RangeError & { code: string }).code = 'ERR_OUT_OF_RANGE';
  return e;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

export function string(v: unknown, name: string): string {
  if (typeof v !== 'string' || v.length === 0) throw typeError('a non-empty string', name, v);
  if (v.includes('\0')) throw typeError('a string without NUL characters', name, v);
  return v;
}

export function boolean(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') throw typeError('a boolean', name, v);
  return v;
}

export function number(v: unknown, name: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw typeError('a number', name, v);
  return v;
}

export function integer(v: unknown, name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw typeError('an integer', name, v);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw rangeError(`an integer between ${min} and ${max}`, name, v);
  }
  return v;
}

export function oneOf<T extends string>(v: unknown, name: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw typeError(`one of ${allowed.map((a) => `'${a}'`).join(', ')}`, name, v);
  }
  return v as T;
}

export function func(v: unknown, name: string): (...args: never[]) => unknown {
  if (typeof v !== 'function') throw typeError('a function', name, v);
  return v as (...args: never[]) => unknown;
}

/**
 * Checks that `opts` is undefined or a plain object whose keys are all in `allowed`;
 * returns it (or {}). An unknown key is a TypeError naming it.
 */
export function options<K extends string>(opts: unknown, name: string, allowed: readonly K[]): Partial<Record<K, unknown>> {
  if (opts === undefined || opts === null) return {};
  if (!isPlainObject(opts)) throw typeError('an options object', name, opts);
  for (const key of Object.keys(opts)) {
    if (!(allowed as readonly string[]).includes(key)) {
      throw typeError(`one of the options ${allowed.join(', ')}`, `${name} key`, key);
    }
  }
  return opts as Partial<Record<K, unknown>>;
}
