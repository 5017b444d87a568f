/**
 * Type tests, checked by `npm run typecheck` (nothing here runs): the wait methods accept what real code
 * forwards to them (an optional timeout, a `number | WaitOptions`), and `set`/`clear` declare that they
 * need no `this`, so passing them as callbacks is typed as safe.
 */
import {
  Condition,
  CountdownLatch,
  Event,
  Lock,
  Queue,
  ReadWriteLock,
  Semaphore,
  SharedEvent,
  type Guard,
  type WaitOptions,
} from '../../lib/index.js';

/** True when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Fails to compile unless T is true. */
type Expect<T extends true> = T;

const event = new Event();
const shared = new SharedEvent();
const lock = new Lock();
const cond = new Condition();
const queue = new Queue<string>();
const rw = new ReadWriteLock();
const latch = new CountdownLatch(1);
const sem = new Semaphore(4);

// A timeout that may be undefined, forwarded as it is.
export const eventMaybe = (t?: number) => event.wait(t);
export const sharedMaybe = (t?: number) => shared.wait(t);
export const lockMaybe = (t?: number) => lock.acquire(t);
export const condMaybe = (t?: number) => cond.wait(t);
export const condAcquireMaybe = (t?: number) => cond.acquire(t);
export const putMaybe = (t?: number) => queue.put('x', t);
export const getMaybe = (t?: number) => queue.get(t);
export const joinMaybe = (t?: number | WaitOptions) => queue.join(t);
export const readMaybe = (t?: number | WaitOptions) => rw.acquireRead(t);
export const writeMaybe = (t?: number | WaitOptions) => rw.acquireWrite(t);
export const latchMaybe = (t?: number | WaitOptions) => latch.wait(t);
export const weighted = (permits?: number) => sem.acquire({ permits });

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
export const putPlain = queue.put('x');
export const joinPlain = queue.join();
export const readPlain = rw.acquireRead();
export const writePlain = rw.acquireWrite();
export const latchPlain = latch.wait();
export const tried = new Lock().tryLock();

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
  Expect<Equal<ReturnType<typeof putMaybe>, Promise<boolean>>>,
  Expect<Equal<ReturnType<typeof getMaybe>, Promise<string>>>,
  Expect<Equal<ReturnType<typeof joinMaybe>, Promise<boolean>>>,
  Expect<Equal<ReturnType<typeof readMaybe>, Promise<boolean>>>,
  Expect<Equal<ReturnType<typeof writeMaybe>, Promise<boolean>>>,
  Expect<Equal<ReturnType<typeof latchMaybe>, Promise<boolean>>>,
  Expect<Equal<ReturnType<typeof weighted>, Promise<boolean>>>,
  Expect<Equal<typeof putPlain, Promise<true>>>,
  Expect<Equal<typeof joinPlain, Promise<true>>>,
  Expect<Equal<typeof readPlain, Promise<true>>>,
  Expect<Equal<typeof writePlain, Promise<true>>>,
  Expect<Equal<typeof latchPlain, Promise<true>>>,
  Expect<Equal<typeof tried, Guard | undefined>>,
  // set and clear need no `this`: `process.once('SIGTERM', stop.set)` is typed as safe.
  Expect<Equal<ThisParameterType<Event['set']>, void>>,
  Expect<Equal<ThisParameterType<Event['clear']>, void>>,
  Expect<Equal<ThisParameterType<SharedEvent['set']>, void>>,
  Expect<Equal<ThisParameterType<SharedEvent['clear']>, void>>,
];

// A timed wait may resolve false: it is not a Promise<true>.
// @ts-expect-error: a timed wait resolves Promise<boolean>
export const wrong: Promise<true> = event.wait(5);
