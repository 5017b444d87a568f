/*
 * AbortSignal handling: one `abort` listener per signal, however many waiters (of however many events)
 * share it. A waiter joins the signal's set when it starts and leaves it when it settles; the last one
 * out removes the listener. A long-lived signal therefore never holds more than one listener from us,
 * and aborting N waiters is O(N).
 */

/** A waiter that an abort can end. */
export interface Abortable {
  /** Called once, when the signal aborts while the waiter is watching it. */
  abort(reason: unknown): void;
}

/** Whether `value` can serve as an AbortSignal (signals from other realms included). */
export function isAbortSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function' &&
    typeof (value as AbortSignal).removeEventListener === 'function'
  );
}

/** The waiters of each watched signal: one waiter alone (the common case) or a set of them. */
const watchers = new WeakMap<AbortSignal, Abortable | Set<Abortable>>();

/** Calls `w.abort(signal.reason)` when `signal` aborts, until {@link unwatch}. */
export function watch(signal: AbortSignal, w: Abortable): void {
  const current = watchers.get(signal);
  if (current === undefined) {
    watchers.set(signal, w);
    signal.addEventListener('abort', onAbort, { once: true });
  } else if (current instanceof Set) current.add(w);
  else watchers.set(signal, new Set([current, w]));
}

/** Stops watching for `w`, which settled another way. */
export function unwatch(signal: AbortSignal, w: Abortable): void {
  const current = watchers.get(signal)!;
  if (current instanceof Set) {
    current.delete(w);
    if (current.size > 0) return;
  }
  watchers.delete(signal);
  signal.removeEventListener('abort', onAbort);
}

function onAbort(this: AbortSignal): void {
  const current = watchers.get(this)!;
  watchers.delete(this); // the listener, added with once, is gone already
  if (current instanceof Set) for (const w of current) w.abort(this.reason);
  else current.abort(this.reason);
}
