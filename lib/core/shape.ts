/*
 * V8 forgets the layout (hidden class) of a class whose every instance died in a full GC, and with it
 * the code optimized for that layout, so the first burst of waits after an idle collection runs
 * unoptimized (a condition round trip measured 1.7x slower). Each class of the hot path keeps one idle
 * instance for ever, made by its first real instance (nothing is made at import), on its prototype (a
 * store that is never read would be dropped by bundlers as dead code). The waiter (queue.ts) keeps its
 * own in a static field that its constructor reads anyway.
 */

const IDLE = /*#__PURE__*/ Symbol('idle instance');

/** Keeps `instance`, made only for this, alive as long as its class. */
export function keepIdle(instance: object): void {
  Object.defineProperty(Object.getPrototypeOf(instance), IDLE, { value: instance });
}
