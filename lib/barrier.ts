/*
 * A barrier: `parties` tasks meet, and none goes on until all have arrived.
 *
 * The queue holds the tasks of the current round in the order they arrived, so a task's arrival index is
 * the queue's size when it arrives. The last party releases the whole round at once (nothing runs in
 * between: promise reactions run later), and whoever arrives next starts the next round.
 *
 * A round breaks, all at once, when one of its waiters times out or is aborted, or on `abort()` or
 * `reset()`: every waiter of the round is released with `false`, which its `wait()` turns into a
 * `BrokenBarrierError`. The barrier then stays broken, refusing every `wait()`, until `reset()`. Each
 * round has its own record of why it broke, so a waiter reports the break of its own round even when
 * the barrier has been reset and broken again by the time its promise settles.
 */
import { type WaitArgs, type WaitOptions, readCount, readWaitArg } from './core/arguments.js';
import { inspectable } from './core/inspect.js';
import { keepIdle } from './core/shape.js';
import { type MakeWaiter, park } from './core/park.js';
import { type Resolve, Waiter, WaiterQueue } from './core/queue.js';
import { BrokenBarrierError } from './errors.js';

/** One round of a barrier: why it broke, once it has. */
interface Round {
  why: string | undefined;
}

/**
 * A barrier for async code on one thread: `parties` tasks call `wait()`, and all of them go on together
 * once the last one arrives, each with its arrival index (0 for the first). Then the barrier starts over
 * for the next round. Like Python's `threading.Barrier`: a task that gives up (timeout, abort) breaks
 * the barrier for everyone, since the round can no longer complete.
 *
 * @example
 * ```ts
 * import { Barrier } from 'awaitable-event';
 *
 * const barrier = new Barrier(3);
 * await Promise.all(
 *   [0, 1, 2].map(async (worker) => {
 *     for (let round = 0; round < 5; round++) {
 *       await step(worker, round);
 *       await barrier.wait(); // nobody starts round + 1 before everyone finished round
 *     }
 *   }),
 * );
 * ```
 */
export class Barrier {
  readonly #parties: number;
  readonly #waiters = new WaiterQueue();
  #round: Round = { why: undefined };
  /** Why the barrier is broken; undefined while it is not. */
  #brokenBy: string | undefined = undefined;
  readonly #breakRound = (why: string, stays: boolean) => {
    this.#round.why = why;
    this.#round = { why: undefined };
    if (stays) this.#brokenBy = why;
    this.#waiters.releaseAll(false);
  };
  readonly #makeWaiter: MakeWaiter = (queue, resolve, reject, signal) =>
    new BarrierWaiter(this.#breakRound, queue, resolve, reject, signal);
  static #prepared = false;

  /**
   * @param parties - how many tasks meet each round, a whole number of at least 1.
   * @throws `TypeError` when `parties` is not a number, `RangeError` when it is below 1, fractional, NaN
   *   or infinite.
   *
   * @example
   * ```ts
   * const barrier = new Barrier(4);
   * ```
   */
  constructor(parties: number) {
    this.#parties = readCount(parties, 'parties', 1);
    if (!Barrier.#prepared) {
      // Set up by the first barrier made, not in the class body (see core/inspect.ts and core/shape.ts).
      Barrier.#prepared = true;
      inspectable(Barrier.prototype, 'Barrier', (b) => ({
        parties: b.#parties,
        waiting: b.#waiters.size,
        broken: b.broken,
      }));
      keepIdle(new Barrier(1));
      keepIdle(new BarrierWaiter(noop, new WaiterQueue(), noop, undefined, undefined));
    }
  }

  /**
   * How many tasks meet each round.
   *
   * @example
   * ```ts
   * console.log(`${barrier.waiting} of ${barrier.parties} arrived`);
   * ```
   */
  get parties(): number {
    return this.#parties;
  }

  /**
   * How many tasks of the current round are waiting now.
   *
   * @example
   * ```ts
   * console.log(`${barrier.parties - barrier.waiting} still to come`);
   * ```
   */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Whether the barrier is broken: every `wait()` rejects at once until `reset()`.
   *
   * @example
   * ```ts
   * if (barrier.broken) barrier.reset();
   * ```
   */
  get broken(): boolean {
    return this.#brokenBy !== undefined;
  }

  /**
   * Arrives at the barrier and waits for the other parties of the round. Resolves with this task's
   * arrival index in the round, `0` to `parties - 1`; the last party's `wait()` resolves at once and
   * releases every other.
   *
   * Rejects with a {@link BrokenBarrierError} when the barrier is broken already, or breaks before the
   * round is complete.
   *
   * @example
   * ```ts
   * const index = await barrier.wait();
   * if (index === 0) console.log('first to arrive');
   * ```
   */
  wait(): Promise<number>;
  /**
   * Like `wait()`, giving up after `timeout` milliseconds: a timeout breaks the barrier (as in Python's
   * `threading.Barrier`), and this and every other waiter of the round reject with a
   * {@link BrokenBarrierError}. `0` or less completes the round if this is its last party, and breaks the
   * barrier at once otherwise.
   *
   * @example
   * ```ts
   * await barrier.wait(10_000); // a party that takes more than 10 s breaks it for everyone
   * ```
   */
  wait(timeout: number): Promise<number>;
  /**
   * Like `wait()`, with a timeout and a signal. An abort breaks the barrier: this wait rejects with
   * `signal.reason`, every other waiter of the round with a {@link BrokenBarrierError}. A signal that is
   * aborted already rejects without arriving, and breaks nothing.
   *
   * @example
   * ```ts
   * await barrier.wait({ timeout: 10_000, signal: shutdown.signal });
   * ```
   */
  wait(options: WaitOptions): Promise<number>;
  /**
   * Like `wait()`, with an optional timeout or options: the form to forward an argument that may be
   * either, or absent.
   *
   * @example
   * ```ts
   * const meet = (timeout?: number) => barrier.wait(timeout);
   * ```
   */
  wait(arg?: number | WaitOptions): Promise<number>;
  wait(arg?: number | WaitOptions): Promise<number> {
    let args: WaitArgs;
    try {
      args = readWaitArg(arg);
    } catch (error) {
      return Promise.reject(error);
    }
    let round = this.#round;
    let index = 0;
    const arrive = (): boolean => {
      if (this.#brokenBy !== undefined) {
        throw new BrokenBarrierError(`Barrier.wait(): the barrier is broken (${this.#brokenBy}); reset() it first`);
      }
      round = this.#round;
      index = this.#waiters.size;
      if (index === this.#parties - 1) {
        this.#waiters.releaseAll(true);
        return true;
      }
      if (args.timeout <= 0) {
        this.#breakRound(TIMED_OUT, true);
        throw this.#broke(round);
      }
      return false;
    };
    return park(this.#waiters, args, arrive, this.#makeWaiter).then((passed) => {
      if (passed) return index;
      throw this.#broke(round);
    });
  }

  /**
   * Ends the current round: its waiters reject with a {@link BrokenBarrierError}, and the barrier, broken
   * or not, is ready for a new round.
   *
   * @example
   * ```ts
   * barrier.reset(); // start over, with whoever calls wait() next
   * ```
   */
  reset(): void {
    this.#brokenBy = undefined;
    this.#breakRound('reset() was called', false);
  }

  /**
   * Breaks the barrier: its waiters, and every later `wait()` until `reset()`, reject with a
   * {@link BrokenBarrierError}. What a party calls when it cannot go on, so the others do not wait for
   * it for ever.
   *
   * @example
   * ```ts
   * try {
   *   await step();
   * } catch (error) {
   *   barrier.abort();
   *   throw error;
   * }
   * ```
   */
  abort(): void {
    this.#breakRound('abort() was called', true);
  }

  get [Symbol.toStringTag](): string {
    return 'Barrier';
  }

  #broke(round: Round): BrokenBarrierError {
    return new BrokenBarrierError(
      `Barrier.wait(): the barrier broke before all ${this.#parties} parties arrived (${round.why})`,
    );
  }
}

const TIMED_OUT = 'a waiter timed out';
const noop = () => {};

/** A waiter of a barrier: one that times out or is aborted while queued breaks the round. */
class BarrierWaiter extends Waiter {
  constructor(
    private readonly breakRound: (why: string, stays: boolean) => void,
    queue: WaiterQueue,
    resolve: Resolve,
    reject: ((reason: unknown) => void) | undefined,
    signal: AbortSignal | undefined,
  ) {
    super(queue, resolve, reject, signal);
  }

  override expire(): void {
    const queued = this.queued;
    super.expire();
    if (queued) this.breakRound(TIMED_OUT, true);
  }

  override abort(reason: unknown): void {
    const queued = this.queued;
    super.abort(reason);
    if (queued) this.breakRound('a waiter was aborted', true);
  }
}
