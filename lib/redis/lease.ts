/*
 * A grant of a RedisLock or RedisSemaphore, held as a lease, and what its holder knows of it.
 *
 * Redis ends a lease at its own time (grant or last extension + lease, on the server's clock). The holder
 * cannot read that clock; it keeps a local end that can only come earlier: the monotonic time at which it
 * *sent* the request that the grant or extension came after, plus the lease, less a drift allowance
 * (1% + 2 ms) for clocks that tick at slightly different rates. Whatever happens to the process or the
 * network, Redis cannot have ended the lease before the holder's local end has passed.
 *
 * At the local end, unless an extension moved it, the guard's `signal` aborts with a LeaseLostError: a
 * timer armed for that moment (unref'd, on the host's own clock) does it at the first chance the process
 * gets. Timers run in batches, not strictly by due time, so the signal does not wait for that timer to
 * be read as aborted: its `aborted`, `reason` and `throwIfAborted()` look at the clock first, and abort
 * it there if the local end has passed. A process paused past its lease (SIGSTOP, a long GC, a blocked
 * event loop) thus finds the signal aborted in anything it runs after that moment. An extension that
 * Redis refuses (the lease ended there, or the data was lost) aborts it at once.
 */
import { inspectable } from '../core/inspect.js';
import { monotonic } from '../core/clock.js';
import { LeaseLostError } from './errors.js';
import { clearHostTimer, hostTimer } from './timers.js';

/**
 * What `acquire()`, `lock()` and `runExclusive()` of a {@link RedisLock} or {@link RedisSemaphore} give:
 * one grant, held as a lease that the library extends while the process lives, until released.
 *
 * @example
 * ```ts
 * await using guard = await lock.lock();
 * await store.write(report, { token: guard.token, signal: guard.signal });
 * // released at the end of the block
 * ```
 */
export interface RedisGuard extends AsyncDisposable {
  /**
   * The fencing token: strictly increasing with every grant of this name, fleet-wide. Send it with every
   * write to the resource the lock guards, and have the resource refuse a token below the highest it saw.
   *
   * @example
   * ```ts
   * await db.query('UPDATE jobs SET owner = $1, token = $2 WHERE id = $3 AND token < $2', [me, guard.token, id]);
   * ```
   */
  readonly token: number;
  /**
   * Aborted, with a {@link LeaseLostError} as its reason, as soon as the lease is known lost; never
   * later than the lease's end as this process measures it.
   *
   * @example
   * ```ts
   * await fetch(url, { method: 'POST', body, signal: guard.signal });
   * ```
   */
  readonly signal: AbortSignal;
  /**
   * Gives the grant back (the next in line gets it). The first call does it; later calls do nothing.
   * Rejects with a {@link LeaseLostError} when the lease was lost before, with the client's error when
   * Redis could not be told (the lease then runs out on its own: it is no longer extended).
   *
   * @example
   * ```ts
   * const guard = await lock.acquire();
   * try {
   *   await runNightlyJob();
   * } finally {
   *   await guard.release();
   * }
   * ```
   */
  release(): Promise<void>;
}

/** What a lease needs of the process-wide side of its primitive. */
export interface LeaseOwner {
  /** Gives the grant `id` back; resolves whether Redis still had it. */
  giveBack(id: string): Promise<boolean>;
  /** The lease `id` is lost: stop extending it, and have Redis drop it if it still has it. */
  forget(id: string): void;
}

/** The local end of a lease of `lease` ms whose grant or extension came after `sent` (monotonic ms). */
export function localEnd(sent: number, lease: number): number {
  return sent + lease - Math.min(lease / 2, lease * 0.01 + 2);
}

export class Lease implements RedisGuard {
  readonly token: number;
  readonly #controller = new AbortController();
  readonly #owner: LeaseOwner;
  readonly id: string;
  readonly lease: number;
  /** Monotonic ms at which the lease may have ended in Redis. */
  end: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #released = false;
  static #prepared = false;

  constructor(owner: LeaseOwner, id: string, token: number, lease: number, end: number) {
    this.#owner = owner;
    this.id = id;
    this.token = token;
    this.lease = lease;
    this.end = end;
    this.#arm();
    watchClock(this.#controller.signal, () => this.#check());
    if (!Lease.#prepared) {
      Lease.#prepared = inspectable(Lease.prototype, 'RedisGuard', (g) => ({
        token: g.token,
        released: g.#released,
        lost: g.#aborted,
      }));
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether it is still held (not released, not lost). */
  get held(): boolean {
    return !this.#released && !this.#aborted;
  }

  /** Redis extended it after `sent` (monotonic ms). */
  extended(sent: number): void {
    if (this.held) this.end = Math.max(this.end, localEnd(sent, this.lease));
  }

  /** The lease is lost: abort the signal (once), stop the timer, and let the owner forget it. */
  lost(why: string): void {
    clearHostTimer(this.#timer);
    this.#timer = undefined;
    if (this.#aborted) return;
    this.#controller.abort(new LeaseLostError(`the lease of token ${this.token} was lost: ${why}`));
    if (!this.#released) this.#owner.forget(this.id);
  }

  release(): Promise<void> {
    if (this.#released) return Promise.resolve();
    this.#released = true;
    clearHostTimer(this.#timer);
    this.#timer = undefined;
    this.#check();
    if (this.#aborted) {
      this.#owner.forget(this.id);
      return Promise.reject(this.#reason);
    }
    return this.#owner.giveBack(this.id).then((had) => {
      if (!had) {
        this.#controller.abort(new LeaseLostError(`the lease of token ${this.token} had ended before release()`));
        throw this.#reason;
      }
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  get [Symbol.toStringTag](): string {
    return 'RedisGuard';
  }

  /** Whether the signal is aborted (read without {@link watchClock}'s check). */
  get #aborted(): boolean {
    return abortedOf.call(this.#controller.signal) as boolean;
  }

  get #reason(): Error {
    return reasonOf.call(this.#controller.signal) as Error;
  }

  /** Aborts the signal if the local end has passed. */
  #check(): void {
    if (this.held && monotonic() >= this.end) this.lost('it ran out before it could be extended');
  }

  /** Arms the timer for the local end; when it fires early (the end moved), for the new end. */
  #arm(): void {
    this.#timer = hostTimer(
      () => {
        this.#timer = undefined;
        if (!this.held) return;
        if (monotonic() >= this.end) this.lost('it ran out before it could be extended');
        else this.#arm();
      },
      Math.floor(this.end - monotonic()),
    );
  }
}

/** The platform's own accessors of AbortSignal, taken once. */
const signalProto = AbortSignal.prototype;
const abortedOf = /*#__PURE__*/ Object.getOwnPropertyDescriptor(signalProto, 'aborted')!.get!;
const reasonOf = /*#__PURE__*/ Object.getOwnPropertyDescriptor(signalProto, 'reason')!.get!;

/** Makes `signal`'s own `aborted`, `reason` and `throwIfAborted()` call `check()` first. */
function watchClock(signal: AbortSignal, check: () => void): void {
  Object.defineProperties(signal, {
    aborted: {
      get() {
        check();
        return abortedOf.call(signal) as boolean;
      },
      configurable: true,
    },
    reason: {
      get() {
        check();
        return reasonOf.call(signal) as unknown;
      },
      configurable: true,
    },
    throwIfAborted: {
      value() {
        check();
        signalProto.throwIfAborted.call(signal);
      },
      configurable: true,
      writable: true,
    },
  });
}
