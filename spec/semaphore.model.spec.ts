/**
 * Property: random acquire (of 1 to 3 permits) / release(n) / timeout / abort / clock ticks against a
 * model of a strict FIFO weighted semaphore (a count and a queue: the head is served while its request
 * fits). Every outcome must match: the same grants, in the same order, never more held than permits, no
 * permit lost or given to a waiter that gave up; waiters that give up in the same instant leave together
 * before anyone is served.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Semaphore } from '../lib/index.js';
import { type Outcome, fakeClock, flush, outcomeOf, track, type Tracked, waiterCount } from './helpers.js';

type Step =
  | { op: 'acquire'; timeout: number | undefined; signal: number | undefined; permits: number }
  | { op: 'release'; n: number }
  | { op: 'abort'; signal: number }
  | { op: 'tick'; ms: number };

const SIGNALS = 3;

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('acquire' as const),
      timeout: fc.option(fc.integer({ min: -2, max: 80 }), { nil: undefined }),
      signal: fc.option(fc.nat(SIGNALS - 1), { nil: undefined }),
      permits: fc.oneof({ arbitrary: fc.constant(1), weight: 3 }, fc.integer({ min: 2, max: 3 })),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ op: fc.constant('release' as const), n: fc.integer({ min: 1, max: 3 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('abort' as const), signal: fc.nat(SIGNALS - 1) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 50 }) }), weight: 2 },
);

describe('Semaphore: agrees with a reference model', () => {
  it('Semaphore: random weighted acquire / release(n) / timeout / abort / tick sequences grant the same permits in the same order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(3), fc.array(step, { maxLength: 60 }), async (initial, steps) => {
        const clock = fakeClock();
        try {
          const sem = new Semaphore(initial);
          const controllers = Array.from({ length: SIGNALS }, () => new AbortController());
          const aborted = new Array<boolean>(SIGNALS).fill(false);
          let now = 0;
          let value = initial;
          const queue: { id: number; deadline: number; signal: number | undefined; permits: number }[] = [];
          const serve = () => {
            while (queue.length > 0 && queue[0]!.permits <= value) {
              const first = queue.shift()!;
              value -= first.permits;
              expected[first.id] = true;
            }
          };
          const expected: Outcome[] = [];
          const real: Tracked<boolean>[] = [];

          for (const s of steps) {
            switch (s.op) {
              case 'acquire': {
                const id = real.length;
                const signal = s.signal === undefined ? undefined : controllers[s.signal]!.signal;
                real.push(track(sem.acquire({ timeout: s.timeout, signal, permits: s.permits })));
                const timeout = s.timeout ?? Infinity;
                if (s.signal !== undefined && aborted[s.signal]) expected.push('aborted');
                else if (value >= s.permits && queue.length === 0) {
                  value -= s.permits;
                  expected.push(true);
                } else if (timeout <= 0) expected.push(false);
                else {
                  expected.push('pending');
                  queue.push({ id, deadline: now + timeout, signal: s.signal, permits: s.permits });
                }
                break;
              }
              case 'release':
                sem.release(s.n);
                value += s.n;
                serve();
                break;
              case 'abort':
                controllers[s.signal]!.abort();
                aborted[s.signal] = true;
                for (let i = queue.length - 1; i >= 0; i--) {
                  if (queue[i]!.signal === s.signal) expected[queue.splice(i, 1)[0]!.id] = 'aborted';
                }
                serve();
                break;
              case 'tick': {
                clock.tick(s.ms);
                const end = now + s.ms;
                // The deadlines that pass, one instant at a time: all that expire together leave, then serve.
                for (;;) {
                  const at = Math.min(...queue.map((w) => w.deadline));
                  if (!(at <= end)) break;
                  for (let i = queue.length - 1; i >= 0; i--) {
                    if (queue[i]!.deadline === at) expected[queue.splice(i, 1)[0]!.id] = false;
                  }
                  serve();
                }
                now = end;
                break;
              }
            }
            await flush();
            expect(real.map(outcomeOf)).to.deep.equal(expected);
            expect(sem.value).to.equal(value);
            expect(sem.locked()).to.equal(value === 0 || queue.length > 0);
            if (queue.length > 0)
              expect(value, 'the head waits only while its request does not fit').to.be.below(queue[0]!.permits);
            expect(waiterCount(sem)).to.equal(queue.length);
          }

          const left = queue.reduce((sum, w) => sum + w.permits, 0);
          if (left > 0) sem.release(left);
          await flush();
          expect(real.every((t) => t.state !== 'pending')).to.equal(true);
          expect(clock.countTimers(), 'no timer left once every waiter settled').to.equal(0);
        } finally {
          clock.restore();
        }
      }),
      { numRuns: 300 },
    );
  });
});
