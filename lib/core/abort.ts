/*
 * AbortSignal handling: one `abort` listener per signal, however many waiters (of however many
 * primitives) share it. A waiter joins the signal's watch when it starts and leaves it when it settles;
 * the last one out removes the listener. A long-lived signal therefore never holds more than one
 * listener from us, and aborting N waiters is O(N).
 *
 * A signal is touched only through the platform's own `AbortSignal` getters and `EventTarget` methods,
 * which check that they are given a real signal, so an object that merely looks like one is refused up
 * front, and one that overrides `addEventListener`, `removeEventListener`, `aborted` or `reason` on
 * itself cannot break a wait. The listener is a closure over the object the caller passed, never
 * `this` (a Proxy's listener runs with the real signal as `this`), and it acts only on a signal that is
 * aborted (a synthetic `dispatchEvent(new Event('abort'))` is ignored).
 */

/** A waiter that an abort can end. */
export interface Abortable {
  /** Called once, when the signal aborts while the waiter is watching it. */
  abort(reason: unknown): void;
}

interface Watch {
  /** The waiters: one alone (the common case) or a set of them. */
  waiters: Abortable | Set<Abortable>;
  readonly listener: () => void;
}

type Getter = (this: AbortSignal) => unknown;

/** The platform's own `aborted` and `reason` getters, looked up on first use. */
let getters: { aborted: Getter; reason: Getter } | undefined;

function own(name: 'aborted' | 'reason', signal: AbortSignal): unknown {
  getters ??= {
    aborted: Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!,
    reason: Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'reason')!.get!,
  };
  return getters[name].call(signal);
}

/** Whether `value` is a real AbortSignal, of any realm: the platform's `aborted` getter accepts it. */
export function isAbortSignal(value: unknown): value is AbortSignal {
  try {
    own('aborted', value as AbortSignal);
    return true;
  } catch {
    return false;
  }
}

/** Whether the (real) signal is aborted. */
export function isAborted(signal: AbortSignal): boolean {
  return own('aborted', signal) as boolean;
}

/** The (real) signal's abort reason. */
export function reasonOf(signal: AbortSignal): unknown {
  return own('reason', signal);
}

/** Adds or removes the abort listener with the platform's own `EventTarget` method. */
function listen(method: 'addEventListener' | 'removeEventListener', signal: AbortSignal, listener: () => void) {
  EventTarget.prototype[method].call(signal, 'abort', listener);
}

const watches = new WeakMap<AbortSignal, Watch>();

/** Calls `w.abort(reason)` when `signal` aborts, until {@link unwatch}. */
export function watch(signal: AbortSignal, w: Abortable): void {
  const current = watches.get(signal);
  if (current === undefined) {
    const entry: Watch = { waiters: w, listener: () => onAbort(signal, entry) };
    listen('addEventListener', signal, entry.listener);
    watches.set(signal, entry);
  } else if (current.waiters instanceof Set) current.waiters.add(w);
  else current.waiters = new Set([current.waiters, w]);
}

/** Stops watching for `w`, which settled another way. */
export function unwatch(signal: AbortSignal, w: Abortable): void {
  const current = watches.get(signal)!;
  if (current.waiters instanceof Set) {
    current.waiters.delete(w);
    if (current.waiters.size > 0) return;
  }
  watches.delete(signal);
  listen('removeEventListener', signal, current.listener);
}

function onAbort(signal: AbortSignal, entry: Watch): void {
  if (!isAborted(signal)) return;
  watches.delete(signal);
  listen('removeEventListener', signal, entry.listener);
  const reason = reasonOf(signal);
  const waiters = entry.waiters;
  if (waiters instanceof Set) for (const w of waiters) w.abort(reason);
  else waiters.abort(reason);
}
