/**
 * The contenders, behind one small interface: this library, the published peer
 * (`@esfx/async-manualresetevent`), the two events users hand-roll today (a deferred promise re-created
 * on clear(), and `events.once()` on an EventEmitter), and the limit: bare deferred promises.
 *
 * Peers without a timeout or AbortSignal of their own get them the way a user would add them: a
 * `setTimeout` per waiter, cleared when the wait ends; an `abort` listener per waiter, removed likewise.
 */
import { AsyncManualResetEvent } from '@esfx/async-manualresetevent';
import { Cancelable, CancelSubscription } from '@esfx/cancelable';
import { EventEmitter, once } from 'node:events';
import { Event } from './lib.js';

export interface BenchEvent {
  set(): void;
  clear(): void;
  wait(): Promise<unknown>;
  waitTimeout(ms: number): Promise<unknown>;
  waitSignal(signal: AbortSignal): Promise<unknown>;
}

export interface Peer {
  name: string;
  create(): BenchEvent;
  /** Past this many pending waiters a run takes minutes (its cost per waiter grows with N): not run. */
  maxWaiters?: number;
}

/** A timeout added by hand: one timer per waiter, cleared when the wait ends first. */
export function userTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms, false);
    void p.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** An abort added by hand: one listener per waiter, removed when the wait ends first. */
export function userAbortable(p: Promise<unknown>, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void p.then((v) => {
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    });
  });
}

/** `@esfx/cancelable`'s protocol over an AbortSignal, so the esfx peers can be aborted the same way. */
export function cancelableOf(signal: AbortSignal): Cancelable {
  return {
    [Cancelable.cancelSignal]: () => ({
      get signaled() {
        return signal.aborted;
      },
      get reason() {
        return signal.reason;
      },
      subscribe(onSignaled: () => void) {
        signal.addEventListener('abort', onSignaled);
        return CancelSubscription.create(() => signal.removeEventListener('abort', onSignaled));
      },
    }),
  };
}

class DeferredEvent implements BenchEvent {
  #flag = false;
  #resolve!: (v: boolean) => void;
  #promise!: Promise<boolean>;
  constructor() {
    this.#renew();
  }
  #renew() {
    this.#promise = new Promise((resolve) => (this.#resolve = resolve));
  }
  set() {
    if (!this.#flag) {
      this.#flag = true;
      this.#resolve(true);
    }
  }
  clear() {
    if (this.#flag) {
      this.#flag = false;
      this.#renew();
    }
  }
  wait() {
    return this.#promise;
  }
  waitTimeout(ms: number) {
    return userTimeout(this.#promise, ms);
  }
  waitSignal(signal: AbortSignal) {
    return userAbortable(this.#promise, signal);
  }
}

class OnceEvent implements BenchEvent {
  #flag = false;
  readonly #emitter = new EventEmitter().setMaxListeners(0);
  set() {
    if (!this.#flag) {
      this.#flag = true;
      this.#emitter.emit('set');
    }
  }
  clear() {
    this.#flag = false;
  }
  wait() {
    return this.#flag ? Promise.resolve([]) : once(this.#emitter, 'set');
  }
  waitTimeout(ms: number) {
    return userTimeout(this.wait(), ms);
  }
  waitSignal(signal: AbortSignal) {
    return this.#flag ? Promise.resolve([]) : once(this.#emitter, 'set', { signal });
  }
}

export const OURS = 'awaitable-event';
export const LIMIT = 'limit: bare promises';

export const peers: Peer[] = [
  {
    name: OURS,
    create: () => {
      const e = new Event();
      return {
        set: e.set,
        clear: e.clear,
        wait: () => e.wait(),
        waitTimeout: (ms) => e.wait(ms),
        waitSignal: (signal) => e.wait({ signal }),
      };
    },
  },
  {
    name: '@esfx/async-manualresetevent',
    create: () => {
      const e = new AsyncManualResetEvent();
      return {
        set: () => e.set(),
        clear: () => e.reset(),
        wait: () => e.wait(),
        waitTimeout: (ms) => userTimeout(e.wait(), ms),
        waitSignal: (signal) => e.wait(cancelableOf(signal)),
      };
    },
  },
  { name: 'deferred promise (hand-rolled)', create: () => new DeferredEvent() },
  // emit() copies the listener array and each once() listener removes itself by a linear search.
  { name: 'events.once (hand-rolled)', create: () => new OnceEvent(), maxWaiters: 10_000 },
];
