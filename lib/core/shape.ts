/*
 * V8 forgets the layout (hidden class) of a class whose every instance died in a full GC, and with it
 * the code optimized for that layout, so the first burst of waits after an idle collection runs
 * unoptimized (a condition round trip measured 1.7x slower). Each class of the hot path keeps one idle
 * instance for ever: a primitive's is made by its first instance, a waiter class's when its first waiter
 * is queued. Nothing is made at import.
 */
import type { Waiter } from './queue.js';

const idle: object[] = [];
const keptWaiters = new Set<unknown>();
let lastKept: unknown;

/** Keeps `instance`, made only for this, alive for ever. */
export function keepIdle(instance: object): void {
  idle.push(instance);
}

/** Keeps the layout of `w`'s class alive: O(1), a set look-up only when the class differs from the last. */
export function keepShape(w: Waiter): void {
  const type = w.constructor;
  if (type !== lastKept) {
    lastKept = type;
    if (!keptWaiters.has(type)) {
      keptWaiters.add(type);
      keepIdle(w.idleTwin());
    }
  }
}
