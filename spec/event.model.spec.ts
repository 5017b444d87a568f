/**
 * Property: random sequences of set / clear / wait(timeout, signal) / abort / clock ticks, run against a
 * tiny reference model. After every step each waiter's outcome and the queue length must match it.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Event } from '../lib/index.js';
import { type Outcome, fakeClock, flush, outcomeOf, track, type Tracked, waiterCount } from './helpers.js';

type Step =
  | { op: 'set' }
  | { op: 'clear' }
  | { op: 'wait'; timeout: number | undefined; signal: number | undefined }
  | { op: 'abort'; signal: number }
  | { op: 'tick'; ms: number };

const SIGNALS = 3;

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ op: 'set' }),
  fc.constant<Step>({ op: 'clear' }),
  fc.record({
    op: fc.constant('wait' as const),
    timeout: fc.option(fc.oneof(fc.integer({ min: -5, max: 100 }), fc.constant(Infinity)), { nil: undefined }),
    signal: fc.option(fc.nat(SIGNALS - 1), { nil: undefined }),
  }),
  fc.record({ op: fc.constant('abort' as const), signal: fc.nat(SIGNALS - 1) }),
  fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 60 }) }),
);

interface ModelWaiter {
  deadline: number;
  signal: number | undefined;
  outcome: Outcome;
}

describe('Event: agrees with a reference model', () => {
  it('Event: random set / clear / wait / abort / tick sequences give every waiter the modelled outcome', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const clock = fakeClock();
        try {
          const event = new Event();
          const controllers = Array.from({ length: SIGNALS }, () => new AbortController());
          const model = { flag: false, now: 0, aborted: new Array<boolean>(SIGNALS).fill(false) };
          const waiters: ModelWaiter[] = [];
          const real: Tracked<boolean>[] = [];

          for (const s of steps) {
            switch (s.op) {
              case 'set':
                event.set();
                model.flag = true;
                for (const w of waiters) if (w.outcome === 'pending') w.outcome = true;
                break;
              case 'clear':
                event.clear();
                model.flag = false;
                break;
              case 'wait': {
                const signal = s.signal === undefined ? undefined : controllers[s.signal]!.signal;
                const timeout = s.timeout ?? Infinity;
                real.push(
                  track(
                    s.signal === undefined && s.timeout !== undefined
                      ? event.wait(s.timeout)
                      : event.wait({ timeout: s.timeout, signal }),
                  ),
                );
                let outcome: Outcome = 'pending';
                if (s.signal !== undefined && model.aborted[s.signal]) outcome = 'aborted';
                else if (model.flag) outcome = true;
                else if (timeout <= 0) outcome = false;
                waiters.push({ deadline: model.now + timeout, signal: s.signal, outcome });
                break;
              }
              case 'abort':
                controllers[s.signal]!.abort();
                model.aborted[s.signal] = true;
                for (const w of waiters) if (w.outcome === 'pending' && w.signal === s.signal) w.outcome = 'aborted';
                break;
              case 'tick':
                clock.tick(s.ms);
                model.now += s.ms;
                for (const w of waiters) if (w.outcome === 'pending' && w.deadline <= model.now) w.outcome = false;
                break;
            }
            await flush();
            expect(real.map(outcomeOf)).to.deep.equal(waiters.map((w) => w.outcome));
            expect(waiterCount(event)).to.equal(waiters.filter((w) => w.outcome === 'pending').length);
          }

          event.set();
          for (const c of controllers) c.abort();
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
