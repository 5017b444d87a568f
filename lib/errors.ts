/**
 * The error `runExclusive()` and `lock()` (of a `Lock`, `Semaphore` or `Condition`) reject with when
 * their timeout passes before the lock or permit is taken. Its `name` is `'TimeoutError'`, like the
 * `DOMException` that `AbortSignal.timeout()` uses, so one `error.name === 'TimeoutError'` check serves both.
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

/**
 * The error `Barrier.wait()` rejects with when the barrier breaks before the round is complete (a waiter
 * timed out or was aborted, or `abort()` or `reset()` was called), and at once while it stays broken.
 * Check `error.name === 'BrokenBarrierError'` where the error may come from another copy of the package.
 *
 * @example
 * ```ts
 * try {
 *   await barrier.wait(5_000);
 * } catch (error) {
 *   if (error instanceof BrokenBarrierError) console.log('a party gave up: round abandoned');
 *   else throw error;
 * }
 * ```
 */
export class BrokenBarrierError extends Error {
  override readonly name = 'BrokenBarrierError';
}

/**
 * The error a `Queue`'s `put()` rejects with once the queue is shut down, and its `get()` once it
 * is shut down and empty (Python 3.13's `asyncio.QueueShutDown`). A queue's async iterator ends on it
 * instead. Check `error.name === 'QueueShutDownError'` where the error may come from another copy of the
 * package.
 *
 * @example
 * ```ts
 * try {
 *   for (;;) handle(await jobs.get());
 * } catch (error) {
 *   if (!(error instanceof QueueShutDownError)) throw error; // shut down and drained: done
 * }
 * ```
 */
export class QueueShutDownError extends Error {
  override readonly name = 'QueueShutDownError';
}
