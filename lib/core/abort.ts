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
let aborted: Getter | undefined;
let reason: Getter | undefined;

const getter = (key: string) => Object.getOwnPropertyDescriptor(AbortSignal.prototype, key)!.get as Getter;

/** Whether the (real) signal is aborted. */
export function isAborted(signal: AbortSignal): boolean {
  return (aborted ??= getter('aborted')).call(signal) as boolean;
}

/** The (real) signal's abort reason. */
export function reasonOf(signal: AbortSignal): unknown {
  return (reason ??= getter('reason')).call(signal);
}

const watches = new WeakMap<AbortSignal, Watch>();

/** Calls `w.abort(reason)` when `signal` aborts, until {@link unwatch}. */
export function watch(signal: AbortSignal, w: Abortable): void {
  const current = watches.get(signal);
  if (current === undefined) {
    const entry: Watch = { waiters: w, listener: () => onAbort(signal, entry) };
    EventTarget.prototype.addEventListener.call(signal, 'abort', entry.listener); // the platform's own
    watches.set(signal, entry);
  } else if (current.waiters instanceof Set) current.waiters.add(w);
  else current.waiters = new Set([current.waiters, w]);
}

/** Stops watching for `w`, which settled another way. */
export function unwatch(signal: AbortSignal, w: Abortable): void {
  const current = watches.get(signal);
  // None while the signal's abort runs: it let go of every waiter at once, and aborts the rest in turn,
  // even one that an earlier one's abort settled (a barrier breaking releases its other waiters).
  if (current === undefined) return;
  if (current.waiters instanceof Set) {
    current.waiters.delete(w);
    if (current.waiters.size > 0) return;
  }
  stop(signal, current);
}

function onAbort(signal: AbortSignal, entry: Watch): void {
  if (!isAborted(signal)) return;
  stop(signal, entry);
  const reason = reasonOf(signal);
  const waiters = entry.waiters;
  if (waiters instanceof Set) for (const w of waiters) w.abort(reason);
  else waiters.abort(reason);
}

/** No waiter watches `signal` any more: removes its listener, with the platform's own method. */
function stop(signal: AbortSignal, entry: Watch): void {
  watches.delete(signal);
  EventTarget.prototype.removeEventListener.call(signal, 'abort', entry.listener);
}
