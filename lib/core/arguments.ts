/*
 * What callers pass: the `timeout | { timeout, signal }` argument of every wait, counts, and the error
 * messages that name a bad argument and show its value. Every rule lives here, once.
 *
 * An options object is read exactly once, field by field, before the primitive looks at its own state:
 * a getter may run user code (even code that changes the primitive), and what it returns is what counts.
 */
import { isAborted } from './abort.js';

/**
 * Options accepted by every `wait`-like method (`Event.wait`, `SharedEvent.wait`, `Lock.acquire`,
 * `Condition.wait`, ...).
 *
 * @example
 * ```ts
 * const options: WaitOptions = { timeout: 5_000, signal: AbortSignal.timeout(1_000) };
 * const ok = await ready.wait(options); // true, false after 5 s, or rejects after 1 s
 * ```
 */
export interface WaitOptions {
  /** Milliseconds to wait at most; `undefined` or `Infinity` waits for ever, `0` or less does not wait. */
  timeout?: number | undefined;
  /** Aborting it ends the wait: the promise rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
}

/** A wait argument once read: the timeout in ms (`Infinity` for none) and the signal, if any. */
export interface WaitArgs {
  readonly timeout: number;
  readonly signal: AbortSignal | undefined;
}

/**
 * Reads a timeout argument: a number of milliseconds, `Infinity` for none. Throws `TypeError` for a
 * non-number and `RangeError` for `NaN`, naming the argument.
 */
export function readTimeout(value: unknown, name: string): number {
  if (typeof value !== 'number' || value !== value) {
    throw new (typeof value === 'number' ? RangeError : TypeError)(
      `${name} must be a number of milliseconds, got ${describe(value)}`,
    );
  }
  return value;
}

/** Reads a `timeout | options` argument once; throws TypeError/RangeError naming the bad argument. */
export function readWaitArg(arg: unknown): WaitArgs {
  if (arg === undefined || typeof arg === 'number') {
    return { timeout: arg === undefined ? Infinity : readTimeout(arg, 'timeout'), signal: undefined };
  }
  return readOptions(arg);
}

/** Reads a wait argument that is neither a number nor `undefined`: it must be an options object. */
export function readOptions(arg: unknown): WaitArgs {
  if (typeof arg !== 'object' || tagOf(arg) !== 'Object') {
    throw new TypeError(
      `timeout must be a number of milliseconds or an options object { timeout, signal }, got ${describe(arg)}`,
    );
  }
  const { timeout, signal } = arg as WaitOptions;
  if (signal !== undefined) {
    try {
      isAborted(signal); // the platform's own getter accepts real signals only, of any realm
    } catch {
      throw new TypeError(`options.signal must be an AbortSignal, got ${describe(signal)}`);
    }
  }
  return { timeout: timeout === undefined ? Infinity : readTimeout(timeout, 'options.timeout'), signal };
}

/**
 * Reads a count (permits, waiters, parties): a whole number of at least `min`, up to 2^53 - 1 (past
 * which `n - 1 === n`); `Infinity` only where
 * `infinite` allows it. `TypeError` for a non-number, `RangeError` otherwise, naming the argument.
 */
export function readCount(value: unknown, name: string, min: number, infinite = false): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!(value >= min && (Number.isSafeInteger(value) || (infinite && value === Infinity)))) {
    throw new RangeError(
      Number.isInteger(value) && value > 0 // whole, but past 2^53 - 1
        ? `${name} must be at most 2^53 - 1${infinite ? ' or Infinity' : ''}, got ${describe(value)}`
        : `${name} must be a whole number, ${min} or more, got ${describe(value)}`,
    );
  }
  return value + 0; // -0 is 0
}

/** Throws a `TypeError` naming `name` unless `fn` is a function. */
export function checkFunction(fn: unknown, name: string): void {
  if (typeof fn !== 'function') throw new TypeError(`${name} must be a function, got ${describe(fn)}`);
}

/** A short, safe description of a bad argument, for error messages: its type and, where short, its value. */
export function describe(value: unknown): string {
  if (typeof value === 'string') {
    return `string ${JSON.stringify(value.length > 20 ? value.slice(0, 20) + '…' : value)}`;
  }
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${value}`;
  return value === null ? 'null' : typeof value === 'object' ? `${tagOf(value)} object` : typeof value;
}

/** What `Object.prototype.toString` calls `value`'s kind: `Object`, `Array`, `Map`... */
function tagOf(value: unknown): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}
