/*
 * What a cross-thread primitive needs to know about the thread it runs on: whether it may block, and
 * how to keep a Node worker alive while it has waiters (a pending `Atomics.waitAsync` does not).
 */

let mayBlock: boolean | undefined;

/** Throws an `Error` naming `instead` where `Atomics.wait` may not block (a browser page's main thread). */
export function assertMayBlock(method: string, instead: string): void {
  if (mayBlock === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      mayBlock = true;
    } catch {
      mayBlock = false;
    }
  }
  if (!mayBlock) {
    throw new Error(
      `${method} cannot block this thread (Atomics.wait is not allowed here, as on a ` +
        `browser page's main thread); use ${instead} instead`,
    );
  }
}

/** The longest polling delay of the fallback without `Atomics.waitAsync`, in ms. */
export const POLL_MAX = 32;

/**
 * One ref'd interval for the whole thread while any holder needs it, in a Node worker only (its
 * pending `Atomics.waitAsync` would not keep it alive). Elsewhere, hold and release do nothing.
 */
export const keepAlive = {
  isWorker: undefined as boolean | undefined,
  holders: 0,
  handle: undefined as unknown,
  hold(): boolean {
    if (!(this.isWorker ??= isNodeWorker())) return false;
    if (this.holders++ === 0) this.handle = setInterval(() => {}, POLL_MAX * 1_000_000);
    return true;
  },
  release(): void {
    if (--this.holders === 0) clearInterval(this.handle as ReturnType<typeof setInterval>);
  },
};

function isNodeWorker(): boolean {
  const node = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const threads = node?.getBuiltinModule?.('node:worker_threads') as { isMainThread?: boolean } | undefined;
  return threads?.isMainThread === false;
}
