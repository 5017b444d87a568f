/*
 * AbortSignal handling: one `abort` listener per signal, however many waiters (of however many
 * primitives) share it. A waiter joins the signal's watch when it starts and leaves it when it settles;
 * the last one out removes the listener. A long-lived signal therefore never holds more than one
 * listener from us, and aborting N waiters is O(N).
 *
 * The listener is a closure over the object the caller passed, never `this` (a Proxy's listener runs
 * with the real signal as `this`), and it acts only on a signal that is aborted (a synthetic
 * `dispatchEvent(new Event('abort'))` is ignored). Listeners are added and removed with the platform's
 * own `EventTarget` methods, so an object that overrides them cannot break a wait; where the platform has
 * none, the signal's own methods are called, and a failure to subscribe rejects the wait up front.
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

type Listen = (this: AbortSignal, type: 'abort', listener: () => void) => void;

const eventTarget = /*#__PURE__*/ (() => (typeof EventTarget === 'function' ? EventTarget.prototype : undefined))();
const addListener = eventTarget?.addEventListener as Listen | undefined;
const removeListener = eventTarget?.removeEventListener as Listen | undefined;

const watches = new WeakMap<AbortSignal, Watch>();

/**
 * Calls `w.abort(signal.reason)` when `signal` aborts, until {@link unwatch}. Throws a `TypeError` (and
 * watches nothing) when the signal cannot be subscribed to.
 */
export function watch(signal: AbortSignal, w: Abortable): void {
  const current = watches.get(signal);
  if (current === undefined) {
    const entry: Watch = { waiters: w, listener: () => onAbort(signal, entry) };
    try {
      (addListener ?? signal.addEventListener).call(signal, 'abort', entry.listener);
    } catch (error) {
      throw new TypeError('options.signal must be an AbortSignal: adding an abort listener to it failed', {
        cause: error,
      });
    }
    watches.set(signal, entry);
  } else if (current.waiters instanceof Set) current.waiters.add(w);
  else current.waiters = new Set([current.waiters, w]);
}

/** Stops watching for `w`, which settled another way. */
export function unwatch(signal: AbortSignal, w: Abortable): void {
  const current = watches.get(signal);
  if (current === undefined) return;
  if (current.waiters instanceof Set) {
    current.waiters.delete(w);
    if (current.waiters.size > 0) return;
  } else if (current.waiters !== w) return;
  watches.delete(signal);
  stopListening(signal, current);
}

function onAbort(signal: AbortSignal, entry: Watch): void {
  let reason: unknown;
  try {
    if (!signal.aborted || watches.get(signal) !== entry) return;
    reason = signal.reason;
  } catch (error) {
    reason = error;
  }
  watches.delete(signal);
  stopListening(signal, entry);
  const waiters = entry.waiters;
  if (waiters instanceof Set) for (const w of waiters) w.abort(reason);
  else waiters.abort(reason);
}

function stopListening(signal: AbortSignal, entry: Watch): void {
  try {
    (removeListener ?? signal.removeEventListener).call(signal, 'abort', entry.listener);
  } catch {
    // The listener may stay on a signal that refuses to let it go; it ignores every later event.
  }
}
