/**
 * Type tests, checked by `npm run typecheck` (nothing here runs): the wait methods accept what real code
 * forwards to them (an optional timeout, a `number | WaitOptions`), and `set`/`clear` declare that they
 * need no `this`, so passing them as callbacks is typed as safe.
 */
import { Condition, Event, Lock, SharedEvent, type WaitOptions } from '../../lib/index.js';

/** True when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Fails to compile unless T is true. */
type Expect<T extends true> = T;

const event = new Event();
const shared = new SharedEvent();
const lock = new Lock();
const cond = new Condition();

// A timeout that may be undefined, forwarded as it is.
export const eventMaybe = (t?: number) => event.wait(t);
export const sharedMaybe = (t?: number) => shared.wait(t);
export const lockMaybe = (t?: number) => lock.acquire(t);
export const condMaybe = (t?: number) => cond.wait(t);
export const condAcquireMaybe = (t?: number) => cond.acquire(t);

// Either form of the argument, forwarded as it is.
export const eventEither = (arg: number | WaitOptions) => event.wait(arg);
export const sharedEither = (arg: number | WaitOptions) => shared.wait(arg);
export const lockEither = (arg: number | WaitOptions) => lock.acquire(arg);
export const condEither = (arg: number | WaitOptions) => cond.wait(arg);
export const condAcquireEither = (arg?: number | WaitOptions) => cond.acquire(arg);

// With no argument, the wait can only end one way.
export const eventPlain = event.wait();
export const sharedPlain = shared.wait();
export const lockPlain = lock.acquire();
export const condPlain = cond.wait();

export type Tests = [
  Expect<Equal<ReturnType<typeof eventMaybe>, Promise<boolean>>>,
  Expect<Equal<ReturnType<typeof sharedMaybe>, Promise<boolean>>>,
  Expect<Equal<ReturnType<typeof lockMaybe>, Promise<boolean>>>,
  Expect<Equal<ReturnType<typeof condMaybe>, Promise<boolean>>>,
  Expect<Equal<ReturnType<typeof condAcquireMaybe>, Promise<boolean>>>,
  Expect<Equal<ReturnType<typeof eventEither>, Promise<boolean>>>,
  Expect<Equal<ReturnType<typeof sharedEither>, Promise<boolean>>>,
  Expect<Equal<ReturnType<typeof lockEither>, Promise<boolean>>>,
  Expect<Equal<ReturnType<typeof condEither>, Promise<boolean>>>,
  Expect<Equal<ReturnType<typeof condAcquireEither>, Promise<boolean>>>,
  Expect<Equal<typeof eventPlain, Promise<true>>>,
  Expect<Equal<typeof sharedPlain, Promise<true>>>,
  Expect<Equal<typeof lockPlain, Promise<true>>>,
  Expect<Equal<typeof condPlain, Promise<true>>>,
  // set and clear need no `this`: `process.once('SIGTERM', stop.set)` is typed as safe.
  Expect<Equal<ThisParameterType<Event['set']>, void>>,
  Expect<Equal<ThisParameterType<Event['clear']>, void>>,
  Expect<Equal<ThisParameterType<SharedEvent['set']>, void>>,
  Expect<Equal<ThisParameterType<SharedEvent['clear']>, void>>,
];

// A timed wait may resolve false: it is not a Promise<true>.
// @ts-expect-error: a timed wait resolves Promise<boolean>
export const wrong: Promise<true> = event.wait(5);
