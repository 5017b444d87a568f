/*
 * The local side of a remote wait: the core's waiter queue, deadlines and abort watching, with waiters
 * that Redis, not their place in the queue, decides when to release.
 */
import { isAborted, reasonOf } from '../core/abort.js';
import { readWaitArg } from '../core/arguments.js';
import { enqueue } from '../core/park.js';
import {
  Waiter,
  type WaiterQueue,
  capture,
  forgetCaptured,
  grant,
  lastReject,
  lastResolve,
  leave,
  stopTimer,
  stopWatching,
} from '../core/queue.js';
import type { Adapter } from './client.js';

/** Thrown at waiters whose client the user closed. */
export function closedError(): Error {
  return new Error('the Redis client was closed while the wait was pending');
}

/**
 * Starts a wait on `queue` with the `timeout | options` argument `arg`: reads it once (rejecting on a bad
 * one), rejects at once for an aborted signal, else queues the waiter `make` builds with its deadline
 * (none for a timeout of 0 or less: a try, which `start` ends with its one round trip) and signal, and
 * calls `start(waiter, timeout)`. Resolves `true` once the waiter is granted, `false` at its deadline.
 */
export function begin<W extends Waiter>(
  queue: WaiterQueue,
  arg: unknown,
  make: (resolve: (value: boolean) => void, reject: (reason: unknown) => void, signal: AbortSignal | undefined) => W,
  start: (w: W, timeout: number) => void,
): Promise<boolean> {
  let timeout: number;
  let signal: AbortSignal | undefined;
  try {
    ({ timeout, signal } = readWaitArg(arg));
    if (signal !== undefined && isAborted(signal)) return Promise.reject(reasonOf(signal));
  } catch (error) {
    return Promise.reject(error);
  }
  const promise = new Promise<boolean>(capture);
  const w = make(lastResolve, lastReject, signal);
  forgetCaptured();
  enqueue(queue, w, timeout > 0 ? timeout : Infinity, signal);
  start(w, timeout);
  return promise;
}

/** Releases the queued waiter `w` (anywhere in its queue) with `true`. */
export function release(w: Waiter): void {
  leave(w);
  grant(w, true);
}

/** Rejects the queued waiter `w` with `error`. */
export function fail(w: Waiter, error: unknown): void {
  leave(w);
  stopTimer(w);
  stopWatching(w);
  w.reject!(error);
}

/** The live waiters of `queue`, in order (a copy: releasing them may compact the queue). */
export function waiting<W extends Waiter>(queue: WaiterQueue): W[] {
  const live: W[] = [];
  for (let i = queue.head; i < queue.tail; i++) {
    const e = queue.items[i] as W | undefined;
    if (e?.queued) live.push(e);
  }
  return live;
}

/** Ends the queued waiter `w` with `false` now (a try that found nothing free). */
export function giveUp(w: Waiter): void {
  leave(w);
  stopTimer(w);
  stopWatching(w);
  w.resolve(false);
}

/** What a hub (the process's side of one primitive name, over one client) must tell its registry. */
export interface Hub {
  /** Whether it has nothing going on: no waiter, no lease, no subscription, nothing to send. */
  idle(): boolean;
}

/**
 * The hubs of one kind, per client and name: made on first use, dropped once idle, so that a process
 * that uses many names (a lock per order) keeps memory for those with something going on only. The
 * primitives look their hub up at every call, so that all objects of one name share the one in use.
 */
export class Hubs<H extends Hub> {
  readonly #byAdapter = new WeakMap<Adapter, Map<string, H>>();
  readonly #make: (adapter: Adapter, key: string) => H;

  constructor(make: (adapter: Adapter, key: string) => H) {
    this.#make = make;
  }

  /** The hub of `key` over `adapter`'s client. */
  of(adapter: Adapter, key: string): H {
    let byKey = this.#byAdapter.get(adapter);
    if (byKey === undefined) this.#byAdapter.set(adapter, (byKey = new Map()));
    let hub = byKey.get(key);
    if (hub === undefined) byKey.set(key, (hub = this.#make(adapter, key)));
    return hub;
  }

  /** The hub of `key` over `adapter`'s client, if there is one now. */
  peek(adapter: Adapter, key: string): H | undefined {
    return this.#byAdapter.get(adapter)?.get(key);
  }

  /**
   * Calls `fn` with the hub of `key` over `adapter`'s client, then drops the hub if that left it idle: a
   * call rejected at once (a bad argument, an aborted signal) leaves no hub behind.
   */
  with<T>(adapter: Adapter, key: string, fn: (hub: H) => T): T {
    const hub = this.of(adapter, key);
    const result = fn(hub);
    this.sweep(adapter, key, hub);
    return result;
  }

  /** Drops `hub` (of `key` over `adapter`'s client) if it is idle. */
  sweep(adapter: Adapter, key: string, hub: H): void {
    const byKey = this.#byAdapter.get(adapter);
    if (byKey?.get(key) === hub && hub.idle()) byKey.delete(key);
  }
}
