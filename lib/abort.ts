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

const watchers = new WeakMap<AbortSignal, Set<Abortable>>();

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

/** Calls `w.abort(signal.reason)` when `signal` aborts, until {@link unwatch}. */
export function watch(signal: AbortSignal, w: Abortable): void {
  let set = watchers.get(signal);
  if (set === undefined) {
    watchers.set(signal, (set = new Set()));
    signal.addEventListener('abort', onAbort);
  }
  set.add(w);
}

/** Stops watching for `w`, which settled another way. */
export function unwatch(signal: AbortSignal, w: Abortable): void {
  const set = watchers.get(signal)!;
  set.delete(w);
  if (set.size === 0) {
    watchers.delete(signal);
    signal.removeEventListener('abort', onAbort);
  }
}

function onAbort(this: AbortSignal): void {
  const set = watchers.get(this)!;
  watchers.delete(this);
  this.removeEventListener('abort', onAbort);
  for (const w of set) w.abort(this.reason);
}
