/*
 * A reader-writer lock: any number of readers at once, or one writer.
 *
 * Readers and writers wait in one FIFO line. A reader enters at once when no writer holds the lock and
 * nobody is queued; a writer when nobody holds the lock and nobody is queued. Whenever the lock is
 * released, and whenever a queued writer gives up, the head of the line is served: a writer once nobody
 * holds the lock; readers, every one in a row at the head, while no writer holds it. So readers together
 * at the head of the line share the lock, a queued writer holds back the readers that arrive after it
 * (writers do not starve), and the readers queued before a writer are not held back by it.
 *
 * A queued writer is always a WriteWaiter, even without a timeout or signal, so that the line tells
 * writers from readers; a reader without either is a bare resolve function. A reader that gives up
 * needs no serving: one at the head waits only while a writer holds the lock, and so does the next.
 */
import type { WaitOptions } from './core/arguments.js';
import { inspectable } from './core/inspect.js';
import { type MakeWaiter, park } from './core/park.js';
import { ServingWaiter } from './core/serving.js';
import { TRUE, WaiterQueue, capture, forgetCaptured, grant, lastResolve, peekOne, takeOne } from './core/queue.js';
import { type Guard, guarded } from './guard.js';

/** A writer in the line: when it gives up, the readers behind it may go in. */
class WriteWaiter extends ServingWaiter {}

/**
 * A reader-writer lock for async code on one thread: many tasks may read at once, a writer has the lock
 * to itself. Readers and writers are served in the order they asked (FIFO): readers together at the head
 * of the line share the lock, and a waiting writer holds back the readers that ask after it, so a stream
 * of readers never starves a writer. Like @esfx's `AsyncReaderWriterLock` or Java's fair
 * `ReentrantReadWriteLock` (not reentrant, and it does not track which task holds what).
 *
 * @example
 * ```ts
 * import { ReadWriteLock } from 'awaitable-event';
 *
 * const rw = new ReadWriteLock();
 * async function lookup(key: string) {
 *   using _ = await rw.readLock(); // many lookups at once
 *   return cache.get(key);
 * }
 * async function refresh() {
 *   using _ = await rw.writeLock(); // alone: no lookup sees a half-built cache
 *   cache = await rebuild();
 * }
 * ```
 */
export class ReadWriteLock {
  #readers = 0;
  #writing = false;
  readonly #waiters = new WaiterQueue();
  readonly #takeRead = (): boolean => {
    if (this.#writing || this.#waiters.size > 0) return false;
    this.#readers++;
    return true;
  };
  readonly #takeWrite = (): boolean => {
    if (this.#writing || this.#readers > 0 || this.#waiters.size > 0) return false;
    this.#writing = true;
    return true;
  };
  /** Serves the head of the line: a writer once the lock is free, readers while no writer holds it. */
  readonly #serve = (): void => {
    const queue = this.#waiters;
    for (;;) {
      const first = peekOne(queue);
      if (first === undefined || this.#writing) return;
      if (first instanceof WriteWaiter) {
        if (this.#readers > 0) return;
        this.#writing = true;
      } else this.#readers++;
      grant(takeOne(queue)!, true);
    }
  };
  readonly #makeWriter: MakeWaiter = (queue, resolve, reject, signal) =>
    new WriteWaiter(this.#serve, queue, resolve, reject, signal);
  static #prepared = false;

  constructor() {
    // Set up by the first lock made, not in the class body (see core/inspect.ts).
    if (!ReadWriteLock.#prepared) {
      ReadWriteLock.#prepared = inspectable(ReadWriteLock.prototype, 'ReadWriteLock', (l) => ({
        readers: l.#readers,
        writing: l.#writing,
        waiters: l.#waiters.size,
      }));
    }
  }

  /**
   * How many readers hold the lock now.
   *
   * @example
   * ```ts
   * console.log(`${rw.readers} readers inside`);
   * ```
   */
  get readers(): number {
    return this.#readers;
  }

  /**
   * Whether a writer holds the lock now.
   *
   * @example
   * ```ts
   * if (rw.writing) console.log('a writer is inside');
   * ```
   */
  get writing(): boolean {
    return this.#writing;
  }

  /**
   * Takes the lock for reading, shared with other readers: at once when no writer holds it and nobody
   * is queued, else in turn; resolves `true` once taken.
   *
   * @example
   * ```ts
   * await rw.acquireRead();
   * try {
   *   return cache.get(key);
   * } finally {
   *   rw.releaseRead();
   * }
   * ```
   */
  acquireRead(): Promise<true>;
  /**
   * Takes the lock for reading, as `acquireRead()` does, giving up after `timeout` milliseconds
   * (`false`: not taken) or when the signal aborts (rejects with `signal.reason`). A timeout of `0` or
   * less only takes it at once.
   *
   * @example
   * ```ts
   * if (!(await rw.acquireRead({ timeout: 100, signal }))) return stale;
   * ```
   */
  acquireRead(timeout: number | WaitOptions | undefined): Promise<boolean>;
  acquireRead(timeout?: number | WaitOptions): Promise<boolean> {
    if (timeout === undefined) return this.#takeRead() ? TRUE : this.#waiters.wait();
    return park(this.#waiters, timeout, this.#takeRead);
  }

  /**
   * Takes the lock for writing, alone: at once when nobody holds it and nobody is queued, else in turn.
   * Resolves `true` once taken.
   *
   * @example
   * ```ts
   * await rw.acquireWrite();
   * try {
   *   cache = await rebuild();
   * } finally {
   *   rw.releaseWrite();
   * }
   * ```
   */
  acquireWrite(): Promise<true>;
  /**
   * Takes the lock for writing, as `acquireWrite()` does, giving up after `timeout` milliseconds
   * (`false`: not taken) or when the signal aborts (rejects with `signal.reason`). A timeout of `0` or
   * less only takes it at once.
   *
   * @example
   * ```ts
   * if (!(await rw.acquireWrite({ timeout: 1_000, signal }))) throw new Error('cache busy');
   * ```
   */
  acquireWrite(timeout: number | WaitOptions | undefined): Promise<boolean>;
  acquireWrite(timeout?: number | WaitOptions): Promise<boolean> {
    if (timeout !== undefined) return park(this.#waiters, timeout, this.#takeWrite, this.#makeWriter);
    if (this.#takeWrite()) return TRUE;
    const promise = new Promise<boolean>(capture);
    this.#waiters.add(new WriteWaiter(this.#serve, this.#waiters, lastResolve, undefined, undefined));
    forgetCaptured();
    return promise;
  }

  /**
   * Gives back a read hold; the last reader out lets the next in line in.
   *
   * @throws `Error` when no reader holds the lock.
   *
   * @example
   * ```ts
   * rw.releaseRead();
   * ```
   */
  releaseRead(): void {
    if (this.#readers === 0) throw new Error('ReadWriteLock.releaseRead() called with no reader holding the lock');
    if (--this.#readers === 0 && this.#waiters.size > 0) this.#serve();
  }

  /**
   * Gives back the write hold, letting the next in line in: a writer, or every reader in a row at the
   * head of the line.
   *
   * @throws `Error` when no writer holds the lock.
   *
   * @example
   * ```ts
   * rw.releaseWrite();
   * ```
   */
  releaseWrite(): void {
    if (!this.#writing) throw new Error('ReadWriteLock.releaseWrite() called with no writer holding the lock');
    this.#writing = false;
    if (this.#waiters.size > 0) this.#serve();
  }

  /**
   * Takes the lock for reading, as a {@link Guard} that gives it back once: with `using`, at the end of
   * the block.
   *
   * @param timeout - a timeout (ms), or `{ timeout, signal }`.
   * @throws rejects with {@link TimeoutError} when the timeout passes first, with `signal.reason` when
   *   the signal aborts first.
   *
   * @example
   * ```ts
   * {
   *   using _ = await rw.readLock(1_000);
   *   render(cache);
   * } // released here
   * ```
   */
  readLock(timeout?: number | WaitOptions): Promise<Guard> {
    return guarded(
      (o) => this.acquireRead(o),
      () => this.releaseRead(),
      timeout,
      'ReadWriteLock.readLock()',
      'a read lock',
    );
  }

  /**
   * Takes the lock for writing, as a {@link Guard} that gives it back once: with `using`, at the end of
   * the block.
   *
   * @param timeout - a timeout (ms), or `{ timeout, signal }`.
   * @throws rejects with {@link TimeoutError} when the timeout passes first, with `signal.reason` when
   *   the signal aborts first.
   *
   * @example
   * ```ts
   * {
   *   using _ = await rw.writeLock({ signal: stop.signal });
   *   cache = await rebuild();
   * } // released here
   * ```
   */
  writeLock(timeout?: number | WaitOptions): Promise<Guard> {
    return guarded(
      (o) => this.acquireWrite(o),
      () => this.releaseWrite(),
      timeout,
      'ReadWriteLock.writeLock()',
      'the write lock',
    );
  }

  get [Symbol.toStringTag](): string {
    return 'ReadWriteLock';
  }
}
