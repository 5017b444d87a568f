/**
 * The error a {@link RedisGuard}'s `signal` aborts with, and its `release()` rejects with, once the lease
 * it held is known lost: it could not be extended before it ran out (Redis unreachable or stalled, the
 * process paused past it), or Redis no longer had it (expired, or the server lost its data). Another
 * process may hold the lock now. Its `name` is `'LeaseLostError'`.
 *
 * @example
 * ```ts
 * import { LeaseLostError, RedisLock } from 'awaitable-event/redis';
 *
 * const guard = await lock.acquire();
 * guard.signal.addEventListener('abort', () => console.warn(guard.signal.reason)); // a LeaseLostError
 * try {
 *   await writeReport({ signal: guard.signal });
 * } finally {
 *   await guard.release().catch((error) => {
 *     if (!(error instanceof LeaseLostError)) throw error;
 *   });
 * }
 * ```
 */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}
