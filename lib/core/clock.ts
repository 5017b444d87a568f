/*
 * Which clock a timeout is measured on, and how fake timers are noticed.
 *
 * A timeout is elapsed time, as Python measures it: on a monotonic clock (`performance.now()`), never on
 * the wall clock, which can step back or forward by hours. A host timer (`setTimeout`) is armed for the
 * earliest deadline; when it fires, only waiters whose deadline has passed on the monotonic clock time
 * out, so a timer that fires a little early re-arms for the rest, and a wait never ends before its full
 * timeout has elapsed since the call.
 *
 * Test suites replace `setTimeout` with a fake (sinon, `@sinonjs/fake-timers`, vitest, jest, `node:test`
 * mock timers), install and remove it between tests, and expect `tick(ms)` to drive every timeout
 * exactly. So a {@link Clock} is the `setTimeout` in force, with its `clearTimeout` and the time source
 * that goes with it; it is looked up at every timed wait, and each wait stays on the clock that was in
 * force when it started, whatever is installed or removed afterwards:
 *
 * - the `setTimeout` the library found at import is the real one: time is `performance.now()`;
 * - any other `setTimeout` is a fake: time is the fake `performance.now` installed with it, or where the
 *   fake left `performance` alone, the `Date.now` installed with it (every fake timer library fakes
 *   `Date` along with `setTimeout`); and a fake timer that fires is trusted to mean that its delay has
 *   elapsed, so even a fake that leaves both alone drives the timeouts exactly.
 */

type SetTimeout = (callback: () => void, ms: number) => unknown;
type ClearTimeout = (handle: never) => void;

/** The timer and monotonic clock found at import: the host's own. */
const host = /*#__PURE__*/ (() => ({
  setTimeout: globalThis.setTimeout as unknown,
  now: globalThis.performance.now as unknown,
}))();

/** The host's monotonic clock, for blocking waits that no timer measures. */
export const monotonic: () => number = /*#__PURE__*/ (() => performance.now.bind(performance))();

/** A timer host and its time source. */
export interface Clock {
  readonly setTimeout: SetTimeout;
  readonly clearTimeout: ClearTimeout;
  /** {@link monotonic} for the host's own timers; for a fake's, a timer that fires is taken as proof that its delay has elapsed. */
  readonly now: () => number;
}

let current: Clock | undefined;

/** The clock in force now: the one of the `setTimeout` installed now. */
export function currentClock(): Clock {
  const setTimeout = globalThis.setTimeout as unknown as SetTimeout;
  if (current?.setTimeout === setTimeout) return current;
  const real = (setTimeout as unknown) === host.setTimeout;
  const clearTimeout = globalThis.clearTimeout as ClearTimeout;
  return (current = { setTimeout, clearTimeout, now: real ? monotonic : fakeNow() });
}

/**
 * The time source installed with a fake `setTimeout`: its `performance.now` where the fake replaced
 * that too (a fake wall-clock step then moves only `Date`, as a real one would), else its `Date.now`.
 */
function fakeNow(): () => number {
  const perf = globalThis.performance;
  if (perf.now !== host.now) return perf.now.bind(perf);
  const dateNow = Date.now;
  return () => dateNow.call(Date);
}
