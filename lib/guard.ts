/// <reference lib="esnext.disposable" />
/*
 * Guards: what `lock()` resolves with. A guard gives back what its `lock()` took, exactly once, whether
 * it is released by hand, disposed by `using`, or both: a double release can never hand a lock on twice.
 */
import { type WaitOptions, readWaitArg } from './core/arguments.js';
import { inspectable } from './core/inspect.js';
import { TimeoutError } from './errors.js';

/**
 * The key `using` looks for: `Symbol.dispose`, or on hosts without it (older browsers) the registered
 * `Symbol.for('Symbol.dispose')` that polyfills and esbuild's downlevel `using` fall back to.
 */
export function disposeKey(symbols: { dispose?: symbol }): typeof Symbol.dispose {
  return (symbols.dispose ?? Symbol.for('Symbol.dispose')) as typeof Symbol.dispose;
}

const DISPOSE: typeof Symbol.dispose = /*#__PURE__*/ disposeKey(Symbol);

/**
 * What `lock()` of a {@link Lock}, {@link Semaphore}, {@link Condition}, {@link SharedLock} or
 * {@link SharedCondition} resolves with, as do `readLock()` and `writeLock()` of a {@link ReadWriteLock}
 * (and what `tryLock()` returns when it took the lock): the lock (or permits) is held until the guard is
 * released, by `release()` or by `using` at the end of its block. Releasing it again does nothing.
 *
 * @example
 * ```ts
 * {
 *   using _ = await lock.lock();
 *   await writeConfig();
 * } // released here, however the block ends
 * ```
 */
export interface Guard extends Disposable {
  /**
   * Gives back what the guard holds; the second and later calls do nothing.
   *
   * @example
   * ```ts
   * const guard = await pool.lock();
   * try {
   *   await query();
   * } finally {
   *   guard.release();
   * }
   * ```
   */
  release(): void;
}

class Held implements Guard {
  #giveBack: (() => void) | undefined;
  static #prototypeReady = false;
  /** Put on the prototype by the first guard made (see below). */
  declare [Symbol.dispose]: () => void;

  constructor(giveBack: () => void) {
    this.#giveBack = giveBack;
    // Set up on the first guard made, not in the class body (see core/inspect.ts): dispose and inspect.
    if (!Held.#prototypeReady) {
      Object.defineProperty(Held.prototype, DISPOSE, {
        value: function (this: Held) {
          this.release();
        },
      });
      Held.#prototypeReady = inspectable(Held.prototype, 'Guard', (g) => ({ released: g.#giveBack === undefined }));
    }
  }

  release(): void {
    const giveBack = this.#giveBack;
    if (giveBack === undefined) return;
    this.#giveBack = undefined;
    giveBack();
  }

  get [Symbol.toStringTag](): string {
    return 'Guard';
  }
}

/**
 * Waits with `acquire` as `lock()` does: reads `options` once, resolves with a guard that calls
 * `giveBack` once, rejects with a {@link TimeoutError} (`method` timed out ... waiting for `what`) when
 * the timeout passes first.
 */
export async function guarded(
  acquire: (options?: WaitOptions) => Promise<boolean>,
  giveBack: () => void,
  options: unknown,
  method: string,
  what: string,
): Promise<Guard> {
  const { timeout, signal } = readWaitArg(options);
  // No timeout and no signal: the argument-free form, whose waiter is a bare resolve function.
  if (!(await acquire(timeout === Infinity && signal === undefined ? undefined : { timeout, signal }))) {
    throw new TimeoutError(`${method} timed out after ${timeout} ms waiting for ${what}`);
  }
  return new Held(giveBack);
}

/** A guard for what was taken at once (`tryLock()`), giving it back with `giveBack` once. */
export function heldGuard(giveBack: () => void): Guard {
  return new Held(giveBack);
}

/** Runs `fn` holding `guard`, releasing it however `fn` ends. */
export async function runGuarded<T>(guard: Promise<Guard>, fn: () => T | PromiseLike<T>): Promise<T> {
  const held = await guard;
  try {
    return await fn();
  } finally {
    held.release();
  }
}
