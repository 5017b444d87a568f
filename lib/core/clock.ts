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
 * - any other `setTimeout` is a fake: time is the `Date.now` installed with it (every fake timer library
 *   fakes `Date` along with `setTimeout`), and a fake timer that fires is trusted to mean that its delay
 *   has elapsed, so even a fake that leaves `Date` alone drives the timeouts exactly.
 */

type SetTimeout = (callback: () => void, ms: number) => unknown;
type ClearTimeout = (handle: never) => void;

/** The `setTimeout` found at import: the host's own. */
const hostSetTimeout: unknown = /*#__PURE__*/ (() => globalThis.setTimeout)();

/** The host's monotonic clock, for blocking waits that no timer measures. */
export const monotonic: () => number = /*#__PURE__*/ (() => {
  const perf = globalThis.performance;
  return typeof perf?.now === 'function' ? perf.now.bind(perf) : Date.now;
})();

/** A timer host and its time source. */
export class Clock {
  /** Whether a timer that fires is taken as proof that its delay has elapsed (fake timers). */
  readonly trustsTimer: boolean;

  constructor(
    readonly setTimeout: SetTimeout,
    readonly clearTimeout: ClearTimeout,
    readonly now: () => number,
  ) {
    this.trustsTimer = setTimeout !== hostSetTimeout;
  }
}

let current: Clock | undefined;

/** The clock in force now: the one of the `setTimeout` installed now. */
export function currentClock(): Clock {
  const setTimeout = globalThis.setTimeout as unknown as SetTimeout;
  if (current?.setTimeout === setTimeout) return current;
  const clearTimeout = globalThis.clearTimeout as ClearTimeout;
  const now = (setTimeout as unknown) === hostSetTimeout ? monotonic : bindDateNow();
  return (current = new Clock(setTimeout, clearTimeout, now));
}

/** `Date.now` as installed now (a fake one stays in use for the waits that started under it). */
function bindDateNow(): () => number {
  const dateNow = Date.now;
  return () => dateNow.call(Date);
}
