/**
 * Property: random acquire / release / timeout / abort / clock ticks against a model of a FIFO lock.
 * Every outcome must match, so there are never two holders, never a lost lock, and turns go in order.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Lock } from '../lib/index.js';
import { type Outcome, fakeClock, flush, outcomeOf, track, type Tracked, waiterCount } from './helpers.js';

type Step =
  | { op: 'acquire'; timeout: number | undefined; signal: number | undefined }
  | { op: 'release' }
  | { op: 'abort'; signal: number }
  | { op: 'tick'; ms: number };

const SIGNALS = 3;

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('acquire' as const),
      timeout: fc.option(fc.integer({ min: -2, max: 80 }), { nil: undefined }),
      signal: fc.option(fc.nat(SIGNALS - 1), { nil: undefined }),
    }),
    weight: 3,
  },
  { arbitrary: fc.constant<Step>({ op: 'release' }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('abort' as const), signal: fc.nat(SIGNALS - 1) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 50 }) }), weight: 2 },
);

describe('Lock: agrees with a reference model', () => {
  it('Lock: random acquire / release / timeout / abort / tick sequences keep one holder, FIFO, and lose no lock', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 50 }), async (steps) => {
        const clock = fakeClock();
        try {
          const lock = new Lock();
          const controllers = Array.from({ length: SIGNALS }, () => new AbortController());
          const aborted = new Array<boolean>(SIGNALS).fill(false);
          let now = 0;
          let holder: number | undefined;
          const queue: { id: number; deadline: number; signal: number | undefined }[] = [];
          const expected: Outcome[] = [];
          const real: Tracked<boolean>[] = [];

          for (const s of steps) {
            switch (s.op) {
              case 'acquire': {
                const id = real.length;
                const signal = s.signal === undefined ? undefined : controllers[s.signal]!.signal;
                real.push(track(lock.acquire({ timeout: s.timeout, signal })));
                const timeout = s.timeout ?? Infinity;
                if (s.signal !== undefined && aborted[s.signal]) expected.push('aborted');
                else if (holder === undefined) {
                  holder = id;
                  expected.push(true);
                } else if (timeout <= 0) expected.push(false);
                else {
                  expected.push('pending');
                  queue.push({ id, deadline: now + timeout, signal: s.signal });
                }
                break;
              }
              case 'release':
                if (holder === undefined) {
                  expect(() => lock.release()).to.throw(Error);
                  break;
                }
                lock.release();
                holder = queue.shift()?.id;
                if (holder !== undefined) expected[holder] = true;
                break;
              case 'abort':
                controllers[s.signal]!.abort();
                aborted[s.signal] = true;
                for (let i = queue.length - 1; i >= 0; i--) {
                  if (queue[i]!.signal === s.signal) expected[queue.splice(i, 1)[0]!.id] = 'aborted';
                }
                break;
              case 'tick':
                clock.tick(s.ms);
                now += s.ms;
                for (let i = queue.length - 1; i >= 0; i--) {
                  if (queue[i]!.deadline <= now) expected[queue.splice(i, 1)[0]!.id] = false;
                }
                break;
            }
            await flush();
            expect(real.map(outcomeOf)).to.deep.equal(expected);
            expect(lock.locked()).to.equal(holder !== undefined);
            expect(waiterCount(lock)).to.equal(queue.length);
          }

          for (const c of controllers) c.abort();
          while (lock.locked()) lock.release();
          await flush();
          expect(clock.countTimers(), 'no timer left once every waiter settled').to.equal(0);
        } finally {
          clock.restore();
        }
      }),
      { numRuns: 300 },
    );
  });
});
