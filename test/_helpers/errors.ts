// The one coded-error assertion of the tests: `fn` must throw (or, async, reject with) an instance
// of `cls` whose `code` is `code`. uvu's own Assertion errors are re-thrown as they are, so an
// assert.unreachable() inside never passes for the expected error.
import * as assert from 'uvu/assert';

export type ErrorClass = abstract new (...args: never[]) => Error;
export type CodedError = Error & { code?: string; path?: string; errno?: number; syscall?: string } & Record<string, unknown>;

function check(err: unknown, cls: ErrorClass, code: string, what: string): CodedError {
  if (err instanceof assert.Assertion) throw err;
  const shown = err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err);
  assert.instance(err, cls, `${what ? what + ': ' : ''}expected ${cls.name}, got ${shown}`);
  assert.is((err as CodedError).code, code, `${what ? what + ': ' : ''}code of ${shown}`);
  return err as CodedError;
}

/** Runs `fn`, which must throw an instance of `cls` with `code`; returns the error. */
export function expectCode(fn: () => unknown, cls: ErrorClass, code: string, what = ''): CodedError {
  try {
    fn();
  } catch (err) {
    return check(err, cls, code, what);
  }
  assert.unreachable(`expected ${cls.name} ${code}${what ? ' for ' + what : ''}`);
  throw new Error('not reached');
}

/**
 * Awaits `fn()`, which must reject (not throw synchronously) with an instance of `cls` with
 * `code`; returns the error.
 */
export async function expectCodeAsync(fn: () => Promise<unknown>, cls: ErrorClass, code: string, what = ''): Promise<CodedError> {
  let p: Promise<unknown>;
  try {
    p = fn();
  } catch (err) {
    if (err instanceof assert.Assertion) throw err;
    assert.unreachable(`${what ? what + ': ' : ''}threw synchronously instead of rejecting: ${String(err)}`);
    throw new Error('not reached', { cause: err });
  }
  try {
    await p;
  } catch (err) {
    return check(err, cls, code, what);
  }
  assert.unreachable(`expected a rejection with ${cls.name} ${code}${what ? ' for ' + what : ''}`);
  throw new Error('not reached');
}
