/**
 * The error `Lock.runExclusive()` rejects with when its timeout passes before the lock is acquired. Its `name` is `'TimeoutError'`, like the `DOMException` that
 * `AbortSignal.timeout()` uses, so one `error.name === 'TimeoutError'` check serves both.
 *
 * @example
 * ```ts
 * try {
 *   await lock.runExclusive(work, { timeout: 100 });
 * } catch (error) {
 *   if (error instanceof TimeoutError) console.log('busy, try later');
 *   else throw error;
 * }
 * ```
 */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}
