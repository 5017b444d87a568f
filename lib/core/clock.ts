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
 * - the `setTimeout` the library found at import is the real one, unless it carries a fake's marks: time
 *   is `performance.now()`;
 * - any other `setTimeout` (or one carrying a fake's marks) is a fake: time is the fake clock's (see
 *   `fakeNow`), and a fake timer that fires is trusted to mean that its delay has elapsed, so even a
 *   fake that moves no clock we can read drives the timeouts exactly (each fired timer sets a floor
 *   under the heap's time); there, waits started at different fake times with no timer firing in
 *   between are measured from the last timer that fired.
 */

type SetTimeout = (callback: () => void, ms: number) => unknown;
type ClearTimeout = (handle: never) => void;

/** The host's monotonic clock, for blocking waits that no timer measures. */
export const monotonic: () => number = /*#__PURE__*/ (() => performance.now.bind(performance))();

/** The host's own timer and clocks, found at import. */
const hostSetTimeout: unknown = /*#__PURE__*/ (() => globalThis.setTimeout)();
const hostNow: unknown = /*#__PURE__*/ (() => performance.now)();
const hostDateNow: unknown = /*#__PURE__*/ (() => Date.now)();

/** A timer host and its time source. */
export interface Clock {
  readonly setTimeout: SetTimeout;
  readonly clearTimeout: ClearTimeout;
  /** {@link monotonic} for the host's own timers; for a fake's, a timer that fires is taken as proof that its delay has elapsed. */
  readonly now: () => number;
}

let current: Clock | undefined;

/**
 * The clock in force now: the one of the `setTimeout` installed now. The `setTimeout` found at import
 * may be a fake all the same, installed before the library was loaded (a test runner's global setup):
 * `@sinonjs/fake-timers` (sinon, vitest, jest) marks its fakes with a `clock`, and Node's `mock.timers`
 * installs a bound function.
 */
export function currentClock(): Clock {
  const setTimeout = globalThis.setTimeout as unknown as SetTimeout;
  if (current?.setTimeout === setTimeout) return current;
  const real =
    (setTimeout as unknown) === hostSetTimeout && !('clock' in setTimeout) && !setTimeout.name.startsWith('bound ');
  const now = real ? monotonic : fakeNow(setTimeout);
  return (current = { setTimeout, clearTimeout: globalThis.clearTimeout as ClearTimeout, now });
}

/**
 * The time source of a fake `setTimeout`: the `performance.now` installed with it (a fake wall-clock step
 * then moves only `Date`, as a real one would), else the fake clock itself where it exposes one
 * (`@sinonjs/fake-timers`, used by sinon, vitest and jest: installed before this library was loaded, its
 * `Date.now` looks like the host's), else the `Date.now` installed with it, else (a fake that moves no
 * clock we can read) a clock that stands still, so that only fired timers carry the time forward
 * (deadline.ts): never the real clock, whose time would leak into the fake one.
 */
function fakeNow(setTimeout: SetTimeout): () => number {
  const perf = globalThis.performance;
  if (perf.now !== hostNow) return perf.now.bind(perf);
  const fake = (setTimeout as { clock?: { now?: unknown } }).clock;
  if (typeof fake?.now === 'number') return () => fake.now as number;
  return Date.now !== hostDateNow ? Date.now.bind(Date) : () => 0;
}
