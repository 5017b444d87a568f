/**
 * Property: random put / get / tryPut / tryGet (with timeouts and signals) / abort / tick / taskDone /
 * shutdown(immediate?) sequences against a model of a FIFO queue with direct hand-off (items, a line of
 * getters, a line of putters with their items). Every outcome must match: the same items to the same
 * getters in the same order, no item lost or delivered twice, no item of a putter that gave up added,
 * and the counts util.inspect shows.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Queue, QueueShutDownError, TimeoutError } from '../lib/index.js';
import { fakeClock, flush, track, type Tracked } from './helpers.js';
import { shown } from './queue-suite.js';

type Wait = { timeout: number | undefined; signal: number | undefined };
type Step =
  | ({ op: 'put' } & Wait)
  | ({ op: 'get' } & Wait)
  | { op: 'tryPut' }
  | { op: 'tryGet' }
  | { op: 'abort'; signal: number }
  | { op: 'tick'; ms: number }
  | { op: 'taskDone' }
  | { op: 'shutdown'; immediate: boolean };

const SIGNALS = 3;
const wait = {
  timeout: fc.option(fc.integer({ min: -1, max: 60 }), { nil: undefined }),
  signal: fc.option(fc.nat(SIGNALS - 1), { nil: undefined }),
};

const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('put' as const), ...wait }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('get' as const), ...wait }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('tryPut' as const) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('tryGet' as const) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('abort' as const), signal: fc.nat(SIGNALS - 1) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 40 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('taskDone' as const) }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('shutdown' as const), immediate: fc.boolean() }),
    weight: 1,
  },
);

/** What a put or get came to: still pending, its value, or why it failed. */
type Outcome = 'pending' | number | boolean | undefined | 'timeout' | 'shutdown' | 'aborted';

function outcomeOf(t: Tracked<unknown>): Outcome {
  if (t.state === 'pending') return 'pending';
  if (t.state === 'fulfilled') return t.value as Outcome;
  if (t.reason instanceof TimeoutError) return 'timeout';
  if (t.reason instanceof QueueShutDownError) return 'shutdown';
  return 'aborted';
}

/** Runs `f`, giving its result, or 'shutdown' when it throws a QueueShutDownError. */
function attempt(f: () => Outcome): Outcome {
  try {
    return f();
  } catch (error) {
    expect(error).to.be.instanceOf(QueueShutDownError);
    return 'shutdown';
  }
}

describe('Queue: agrees with a reference model', () => {
  it('Queue: random put / get / tryPut / tryGet / timeout / abort / tick / taskDone / shutdown sequences hand the same items to the same waiters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 3 })),
        fc.array(step, { maxLength: 60 }),
        async (maxsize, steps) => {
          const clock = fakeClock();
          try {
            const q = new Queue<number>(maxsize);
            const controllers = Array.from({ length: SIGNALS }, () => new AbortController());
            const aborted = new Array<boolean>(SIGNALS).fill(false);
            let now = 0;
            const items: number[] = [];
            let unfinished = 0;
            let shutDown = false;
            type Waiting = { id: number; deadline: number; signal: number | undefined };
            const getters: Waiting[] = [];
            const putters: (Waiting & { item: number })[] = [];
            const expected: Outcome[] = [];
            const real: Tracked<unknown>[] = [];
            const take = (): number => {
              const item = items.shift()!;
              const putter = putters.shift();
              if (putter !== undefined) {
                items.push(putter.item);
                unfinished++;
                expected[putter.id] = true;
              }
              return item;
            };
            const offer = (item: number): boolean => {
              const getter = getters.shift();
              if (getter !== undefined) expected[getter.id] = item;
              else if (items.length < maxsize) items.push(item);
              else return false;
              unfinished++;
              return true;
            };

            for (const [index, s] of steps.entries()) {
              const id = real.length;
              const item = index; // every item is told apart by the step that put it
              switch (s.op) {
                case 'put':
                case 'get': {
                  const signal = s.signal === undefined ? undefined : controllers[s.signal]!.signal;
                  const arg =
                    s.timeout === undefined && signal === undefined ? undefined : { timeout: s.timeout, signal };
                  real.push(track<unknown>(s.op === 'put' ? q.put(item, arg!) : q.get(arg!)));
                  const timeout = s.timeout ?? Infinity;
                  const entry = { id, deadline: now + timeout, signal: s.signal };
                  if (s.signal !== undefined && aborted[s.signal]) expected.push('aborted');
                  else if (s.op === 'put') {
                    if (shutDown) expected.push('shutdown');
                    else if (offer(item)) expected.push(true);
                    else if (timeout <= 0) expected.push(false);
                    else {
                      expected.push('pending');
                      putters.push({ ...entry, item });
                    }
                  } else if (items.length > 0) expected.push(take());
                  else if (shutDown) expected.push('shutdown');
                  else if (timeout <= 0) expected.push('timeout');
                  else {
                    expected.push('pending');
                    getters.push(entry);
                  }
                  break;
                }
                case 'tryPut':
                  expect(attempt(() => q.tryPut(item))).to.equal(shutDown ? 'shutdown' : offer(item));
                  break;
                case 'tryGet':
                  expect(attempt(() => q.tryGet())).to.equal(
                    items.length > 0 ? take() : shutDown ? 'shutdown' : undefined,
                  );
                  break;
                case 'abort':
                  controllers[s.signal]!.abort();
                  aborted[s.signal] = true;
                  for (const line of [getters, putters]) {
                    for (let i = line.length - 1; i >= 0; i--) {
                      if (line[i]!.signal === s.signal) expected[line.splice(i, 1)[0]!.id] = 'aborted';
                    }
                  }
                  break;
                case 'tick':
                  clock.tick(s.ms);
                  now += s.ms;
                  for (const [line, outcome] of [
                    [getters, 'timeout'],
                    [putters, false],
                  ] as const) {
                    for (let i = line.length - 1; i >= 0; i--) {
                      if (line[i]!.deadline <= now) expected[line.splice(i, 1)[0]!.id] = outcome;
                    }
                  }
                  break;
                case 'taskDone':
                  if (unfinished === 0) expect(() => q.taskDone()).to.throw(Error, /more times/);
                  else {
                    q.taskDone();
                    unfinished--;
                  }
                  break;
                case 'shutdown':
                  q.shutdown(s.immediate);
                  shutDown = true;
                  if (s.immediate) {
                    unfinished = Math.max(0, unfinished - items.length);
                    items.length = 0;
                  }
                  for (const w of [...getters.splice(0), ...putters.splice(0)]) expected[w.id] = 'shutdown';
                  break;
              }
              await flush();
              expect(real.map(outcomeOf)).to.deep.equal(expected);
              expect(q.size).to.equal(items.length);
              expect(shown(q, 'getters')).to.equal(getters.length);
              expect(shown(q, 'putters')).to.equal(putters.length);
              expect(shown(q, 'unfinished')).to.equal(unfinished);
              if (getters.length > 0) expect(items, 'getters wait only while no item is queued').to.deep.equal([]);
              if (putters.length > 0) expect(items.length, 'putters wait only while full').to.equal(maxsize);
            }

            q.shutdown();
            await flush();
            expect(real.every((t) => t.state !== 'pending')).to.equal(true);
            expect(clock.countTimers(), 'no timer left once every waiter settled').to.equal(0);
          } finally {
            clock.restore();
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
