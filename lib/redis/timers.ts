/*
 * The timers of the protocol itself (lease upkeep, a lease's end, letting go of a channel): the host's
 * own, taken at import, so that fake timers installed by a test suite, which drive the waits' timeouts,
 * never stop the upkeep of a lease on a real server; unref'd, so that they never keep a process alive (but for the retry of a lost subscription, see
 * channel.ts).
 */
const set = globalThis.setTimeout;

/** Calls `fn` after `ms` ms on the host's own clock; without keeping the process alive unless `ref`. */
export function hostTimer(fn: () => void, ms: number, ref = false): ReturnType<typeof setTimeout> {
  const handle = set(fn, Math.max(0, Math.min(ms, 2_147_483_647)));
  if (!ref) (handle as { unref?: () => void }).unref?.();
  return handle;
}

/** Stops a timer of {@link hostTimer}. */
export const clearHostTimer: (handle: ReturnType<typeof setTimeout> | undefined) => void = /*#__PURE__*/ (() => {
  const clear = globalThis.clearTimeout;
  return (handle) => {
    if (handle !== undefined) clear(handle);
  };
})();
