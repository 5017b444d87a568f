/**
 * Property: random read / write acquires (with timeouts and signals) / releases / aborts / clock ticks
 * against a model of a fair reader-writer lock (one FIFO line; the head is served: a writer once nobody
 * holds the lock, readers while no writer does). Every outcome must match: the same grants in the same
 * order, never a writer with anyone else inside, no turn given to a waiter that gave up; waiters that
 * give up in the same instant leave together before anyone is served.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { ReadWriteLock } from '../lib/index.js';
import { type Outcome, fakeClock, flush, outcomeOf, track, type Tracked, waiterCount } from './helpers.js';

type Step =
  | { op: 'read' | 'write'; timeout: number | undefined; signal: number | undefined }
  | { op: 'releaseRead' | 'releaseWrite' }
  | { op: 'abort'; signal: number }
  | { op: 'tick'; ms: number };

const SIGNALS = 3;

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constantFrom('read' as const, 'write' as const),
      timeout: fc.option(fc.integer({ min: -1, max: 60 }), { nil: undefined }),
      signal: fc.option(fc.nat(SIGNALS - 1), { nil: undefined }),
    }),
    weight: 5,
  },
  { arbitrary: fc.record({ op: fc.constantFrom('releaseRead' as const, 'releaseWrite' as const) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('abort' as const), signal: fc.nat(SIGNALS - 1) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 40 }) }), weight: 2 },
);

describe('ReadWriteLock: agrees with a reference model', () => {
  it('ReadWriteLock: random read / write / release / timeout / abort / tick sequences grant the same turns in the same order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const clock = fakeClock();
        try {
          const rw = new ReadWriteLock();
          const controllers = Array.from({ length: SIGNALS }, () => new AbortController());
          const aborted = new Array<boolean>(SIGNALS).fill(false);
          let now = 0;
          let readers = 0;
          let writing = false;
          const line: { id: number; write: boolean; deadline: number; signal: number | undefined }[] = [];
          const expected: Outcome[] = [];
          const real: Tracked<boolean>[] = [];
          const serve = () => {
            while (line.length > 0 && !writing) {
              if (line[0]!.write) {
                if (readers > 0) return;
                writing = true;
              } else readers++;
              expected[line.shift()!.id] = true;
            }
          };
          const leave = (gone: (w: (typeof line)[number]) => boolean, outcome: Outcome) => {
            for (let i = line.length - 1; i >= 0; i--) {
              if (gone(line[i]!)) expected[line.splice(i, 1)[0]!.id] = outcome;
            }
            serve();
          };

          for (const s of steps) {
            switch (s.op) {
              case 'read':
              case 'write': {
                const id = real.length;
                const signal = s.signal === undefined ? undefined : controllers[s.signal]!.signal;
                const arg =
                  s.timeout === undefined && signal === undefined ? undefined : { timeout: s.timeout, signal };
                const write = s.op === 'write';
                real.push(track(write ? rw.acquireWrite(arg) : rw.acquireRead(arg)));
                const timeout = s.timeout ?? Infinity;
                const free = !writing && line.length === 0 && (!write || readers === 0);
                if (s.signal !== undefined && aborted[s.signal]) expected.push('aborted');
                else if (free) {
                  if (write) writing = true;
                  else readers++;
                  expected.push(true);
                } else if (timeout <= 0) expected.push(false);
                else {
                  expected.push('pending');
                  line.push({ id, write, deadline: now + timeout, signal: s.signal });
                }
                break;
              }
              case 'releaseRead':
                if (readers === 0) expect(() => rw.releaseRead()).to.throw(Error);
                else {
                  rw.releaseRead();
                  readers--;
                  serve();
                }
                break;
              case 'releaseWrite':
                if (!writing) expect(() => rw.releaseWrite()).to.throw(Error);
                else {
                  rw.releaseWrite();
                  writing = false;
                  serve();
                }
                break;
              case 'abort':
                controllers[s.signal]!.abort();
                aborted[s.signal] = true;
                leave((w) => w.signal === s.signal, 'aborted');
                break;
              case 'tick': {
                clock.tick(s.ms);
                const end = now + s.ms;
                for (;;) {
                  const at = Math.min(...line.map((w) => w.deadline));
                  if (!(at <= end)) break;
                  leave((w) => w.deadline === at, false);
                }
                now = end;
                break;
              }
            }
            await flush();
            expect(real.map(outcomeOf)).to.deep.equal(expected);
            expect(rw.readers).to.equal(readers);
            expect(rw.writing).to.equal(writing);
            expect(writing && readers > 0, 'a writer is alone').to.equal(false);
            expect(waiterCount(rw)).to.equal(line.length);
          }

          while (writing || readers > 0) {
            if (writing) {
              rw.releaseWrite();
              writing = false;
            } else {
              rw.releaseRead();
              readers--;
            }
            serve();
          }
          await flush();
          expect(real.map(outcomeOf)).to.deep.equal(expected);
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
