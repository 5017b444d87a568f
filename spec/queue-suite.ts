/**
 * The behaviour every queue promises, written once as a function of a factory and run against `Queue()`
 * (no maxsize) and `Queue(n)`: FIFO items, getters served in the order they came with each item handed
 * straight to the first of them (no barging), timeouts, aborts, taskDone / join, shutdown (Python 3.13),
 * `for await`, bad arguments, and nothing left behind. Where the queue has a maxsize, the same for
 * putters waiting for room. The fake clock is installed before each test and removed after it; the
 * teardown fails a test that left a timer pending.
 */
import { expect } from 'chai';
import type * as sinon from 'sinon';
import { inspect } from 'node:util';
import { type Queue, QueueShutDownError, TimeoutError } from '../lib/index.js';
import { badWaitArguments } from './event-suite.js';
import { abortListeners, flush, recorder, track, withFakeClock } from './helpers.js';

/** A count `util.inspect` shows for a queue: `getters`, `putters` or `unfinished`. */
export function shown(q: Queue<unknown>, field: 'getters' | 'putters' | 'unfinished'): number {
  const m = new RegExp(`${field}: (\\d+)`).exec(inspect(q));
  if (m === null) throw new Error(`no ${field} in ${inspect(q)}`);
  return Number(m[1]);
}

export function queueSuite(name: string, create: () => Queue<number>): void {
  const bounded = create().maxsize !== Infinity;

  describe(`${name}: the behaviour every queue promises`, () => {
    let clock!: sinon.SinonFakeTimers;
    withFakeClock((c) => (clock = c));

    describe('items and getters', () => {
      it(`${name} gives items back in the order they were put`, async () => {
        const q = create();
        expect(q.size).to.equal(0);
        for (const i of [1, 3]) expect(await q.put(i)).to.equal(true);
        expect(q.tryPut(2)).to.equal(true);
        expect(q.size).to.equal(3);
        expect([await q.get(), q.tryGet(), await q.get(0)]).to.deep.equal([1, 3, 2]);
        expect(q.size).to.equal(0);
        expect(q.tryGet()).to.equal(undefined);
      });

      it(`${name}.get() waits for an item, and each put() hands its item to the getter that waited longest`, async () => {
        const q = create();
        const { log, note } = recorder();
        note('a', q.get());
        note('b', q.get(1000));
        note('c', q.get({ signal: new AbortController().signal }));
        expect(shown(q, 'getters')).to.equal(3);
        await clock.tickAsync(10);
        expect(log).to.deep.equal([]);
        q.tryPut(1);
        await q.put(2);
        expect(q.size, 'handed over, never queued').to.equal(0);
        await flush();
        expect(log).to.deep.equal(['a:1', 'b:2']);
        await q.put(3);
        await flush();
        expect(log).to.deep.equal(['a:1', 'b:2', 'c:3']);
        expect(shown(q, 'getters')).to.equal(0);
        expect(clock.countTimers()).to.equal(0);
      });

      it(`${name}: a get() or tryGet() never barges in ahead of a waiting getter, even while the hand-off is in flight`, async () => {
        const q = create();
        const first = track(q.get());
        await q.put(7); // handed to first, whose continuation has not run yet
        expect(q.tryGet()).to.equal(undefined);
        const late = track(q.get(0));
        await flush();
        expect(first.value).to.equal(7);
        expect(late.reason).to.be.instanceOf(TimeoutError);
      });

      it(`${name}.get(ms) rejects with a TimeoutError when no item comes in time, and leaves the line at once`, async () => {
        const q = create();
        const { log, note } = recorder();
        note('timed', q.get(100));
        note('options', q.get({ timeout: 50 }));
        note('next', q.get());
        await clock.tickAsync(50);
        expect(log).to.deep.equal(['options:rejected:Queue.get() timed out after 50 ms waiting for an item']);
        await clock.tickAsync(50);
        expect(log.at(-1)).to.equal('timed:rejected:Queue.get() timed out after 100 ms waiting for an item');
        expect(shown(q, 'getters')).to.equal(1);
        q.tryPut(1);
        await flush();
        expect(log.at(-1)).to.equal('next:1');
        expect(q.size).to.equal(0);
      });

      it(`${name}.get(0) and negative timeouts take only an item already there, at once`, async () => {
        const q = create();
        const none = track(q.get(0));
        const negative = track(q.get({ timeout: -1 }));
        await flush();
        for (const t of [none, negative]) expect(t.reason).to.be.instanceOf(TimeoutError);
        expect(clock.countTimers()).to.equal(0);
        q.tryPut(5);
        expect(await q.get(0)).to.equal(5);
      });

      it(`${name}: a getter handed an item before its deadline gets it, and its timer is cleared`, async () => {
        const q = create();
        const t = track(q.get(100));
        await clock.tickAsync(50);
        q.tryPut(1);
        expect(clock.countTimers()).to.equal(0);
        await clock.tickAsync(100);
        expect(t.value).to.equal(1);
      });

      it(`${name}.get() without a timeout waits for ever, holding no timer`, async () => {
        const q = create();
        const ts = [q.get(), q.get(Infinity), q.get({})].map(track);
        expect(clock.countTimers()).to.equal(0);
        await clock.tickAsync(2 ** 40);
        expect(ts.map((t) => t.state)).to.deep.equal(['pending', 'pending', 'pending']);
        for (const i of [1, 2, 3]) q.tryPut(i);
        await flush();
        expect(ts.map((t) => t.value)).to.deep.equal([1, 2, 3]);
      });
    });

    describe('abort', () => {
      it(`${name}.get() aborted while waiting rejects with signal.reason, and the next item goes to the next getter`, async () => {
        const q = create();
        const ac = new AbortController();
        const { log, note } = recorder();
        note('aborted', q.get({ signal: ac.signal, timeout: 1000 }));
        note('next', q.get());
        ac.abort(new Error('stop'));
        expect(shown(q, 'getters')).to.equal(1);
        expect(clock.countTimers()).to.equal(0);
        q.tryPut(1);
        await flush();
        expect(log).to.deep.equal(['aborted:rejected:stop', 'next:1']);
        expect(abortListeners(ac.signal)).to.equal(0);
      });

      it(`${name}.get() with an already aborted signal rejects without taking an item`, async () => {
        const q = create();
        q.tryPut(1);
        const reason = new Error('already');
        const t = track(q.get({ signal: AbortSignal.abort(reason) }));
        await flush();
        expect(t.reason).to.equal(reason);
        expect(q.size).to.equal(1);
      });

      it(`${name}: a getter aborted in the same tick it was handed an item keeps it, and no item is lost`, async () => {
        const q = create();
        const ac = new AbortController();
        const handed = track(q.get({ signal: ac.signal }));
        const next = track(q.get());
        q.tryPut(1);
        ac.abort();
        await flush();
        expect(handed.value, 'the hand-off came before the abort').to.equal(1);
        expect(next.state).to.equal('pending');
        q.tryPut(2);
        await flush();
        expect(next.value).to.equal(2);
      });

      it(`${name}: a long-lived signal reused for 10,000 waiting gets never holds more than one listener`, async () => {
        const q = create();
        const ac = new AbortController();
        let most = 0;
        for (let i = 0; i < 10_000; i++) {
          const p = q.get({ signal: ac.signal, timeout: 1000 });
          most = Math.max(most, abortListeners(ac.signal));
          q.tryPut(i);
          expect(await p).to.equal(i);
        }
        expect(most).to.equal(1);
        expect(abortListeners(ac.signal)).to.equal(0);
      });
    });

    describe('taskDone and join', () => {
      it(`${name}.join() resolves at once while no item is unfinished, and again after`, async () => {
        const q = create();
        expect(await q.join()).to.equal(true);
        expect(await q.join(0)).to.equal(true);
        expect(await q.join({ timeout: 10 })).to.equal(true);
      });

      it(`${name}.join() waits until taskDone() has been called for every item put, handed over or queued`, async () => {
        const q = create();
        const handed = q.get();
        q.tryPut(1); // handed straight to the getter: it counts too
        q.tryPut(2);
        expect(shown(q, 'unfinished')).to.equal(2);
        const joined = track(q.join());
        const timed = track(q.join(50));
        expect(await handed).to.equal(1);
        q.taskDone();
        await clock.tickAsync(50);
        expect(timed.value).to.equal(false);
        expect(joined.state).to.equal('pending');
        expect(q.tryGet()).to.equal(2);
        q.taskDone();
        await flush();
        expect(joined.value).to.equal(true);
      });

      it(`${name}.taskDone() called more times than items were put throws an Error and changes nothing`, async () => {
        const q = create();
        expect(() => q.taskDone()).to.throw(Error, 'Queue.taskDone() called more times than items were put');
        q.tryPut(1);
        q.taskDone();
        expect(() => q.taskDone()).to.throw(Error, /more times than items were put/);
        expect(q.size).to.equal(1);
        expect(await q.join(0)).to.equal(true);
      });

      it(`${name}.join() aborted rejects with signal.reason, leaving no listener`, async () => {
        const q = create();
        q.tryPut(1);
        const ac = new AbortController();
        const t = track(q.join({ signal: ac.signal }));
        ac.abort('stop');
        await flush();
        expect(t.reason).to.equal('stop');
        expect(abortListeners(ac.signal)).to.equal(0);
      });

      it(`${name}: workers that get and taskDone() every item let join() resolve once all are processed`, async () => {
        const q = create();
        let total = 0;
        const worker = async () => {
          for (;;) {
            const item = await q.get();
            total += item;
            await new Promise((r) => setTimeout(r, 1));
            q.taskDone();
          }
        };
        void worker();
        void worker();
        const producer = (async () => {
          for (let i = 0; i < 100; i++) await q.put(i);
        })();
        const joined = track(producer.then(() => q.join()));
        await clock.tickAsync(100);
        expect(joined.value).to.equal(true);
        expect(total).to.equal(4950);
        q.shutdown(); // lets the workers go
        await flush();
      });
    });

    describe('shutdown', () => {
      it(`${name}.shutdown() of an empty queue refuses the getters waiting, and every put and get after`, async () => {
        const q = create();
        const waiting = [q.get(), q.get(1000), q.get({ signal: new AbortController().signal })].map(track);
        q.shutdown();
        expect(q.size).to.equal(0);
        expect(await q.join()).to.equal(true);
        await flush();
        for (const t of waiting) {
          expect(t.reason).to.be.instanceOf(QueueShutDownError);
          expect((t.reason as Error).name).to.equal('QueueShutDownError');
          expect((t.reason as Error).message).to.equal('Queue.get(): the queue is shut down');
        }
        expect(clock.countTimers()).to.equal(0);
        const later = [q.put(1), q.put(1, 10), q.get(), q.get(10)].map((p) => track(p as Promise<unknown>));
        await flush();
        for (const t of later) expect(t.reason).to.be.instanceOf(QueueShutDownError);
        expect(() => q.tryPut(1)).to.throw(QueueShutDownError, 'Queue.tryPut(): the queue is shut down');
        expect(() => q.tryGet()).to.throw(QueueShutDownError, 'Queue.tryGet(): the queue is shut down');
        expect(q.size).to.equal(0);
      });

      it(`${name}.shutdown() lets get() drain the items left, then refuses; join() waits for their taskDone()`, async () => {
        const q = create();
        q.tryPut(1);
        q.tryPut(2);
        const joined = track(q.join());
        q.shutdown();
        expect(q.size).to.equal(2);
        expect(await q.get()).to.equal(1);
        expect(q.tryGet()).to.equal(2);
        const after = track(q.get());
        await flush();
        expect(after.reason).to.be.instanceOf(QueueShutDownError);
        expect(joined.state).to.equal('pending');
        q.taskDone();
        q.taskDone();
        await flush();
        expect(joined.value).to.equal(true);
        expect(() => q.taskDone()).to.throw(Error);
      });

      it(`${name}.shutdown(true) drops the items left, counting each as done, and join() resolves`, async () => {
        const q = create();
        q.tryPut(1);
        q.tryPut(2);
        const joined = track(q.join());
        q.shutdown(true);
        expect(q.size).to.equal(0);
        await flush();
        expect(joined.value).to.equal(true);
        const get = track(q.get());
        await flush();
        expect(get.reason).to.be.instanceOf(QueueShutDownError);
        expect(() => q.taskDone(), 'no item left unfinished').to.throw(Error);
      });

      it(`${name}.shutdown(true) leaves join() waiting for items taken before it and not yet done`, async () => {
        const q = create();
        q.tryPut(1);
        q.tryPut(2);
        const joined = track(q.join());
        expect(await q.get()).to.equal(1);
        q.shutdown(true);
        expect(q.size).to.equal(0);
        await flush();
        expect(joined.state).to.equal('pending');
        q.taskDone();
        expect(() => q.taskDone()).to.throw(Error);
        await flush();
        expect(joined.value).to.equal(true);
      });

      it(`${name}.shutdown() called twice does no harm, and shutdown(true) after it drops what is left`, async () => {
        const q = create();
        q.tryPut(1);
        q.shutdown();
        q.shutdown();
        expect(q.size).to.equal(1);
        q.shutdown(true);
        expect(q.size).to.equal(0);
        expect(await q.join(0)).to.equal(true);
      });
    });

    describe('for await', () => {
      it(`${name}: for await reads the items in order and ends once the queue is shut down and drained`, async () => {
        const q = create();
        const seen: number[] = [];
        const reader = (async () => {
          for await (const item of q) seen.push(item);
          return 'ended';
        })();
        for (const i of [1, 2, 3]) await q.put(i);
        await flush();
        expect(seen).to.deep.equal([1, 2, 3]);
        q.tryPut(4);
        q.shutdown();
        expect(await reader).to.equal('ended');
        expect(seen).to.deep.equal([1, 2, 3, 4]);
      });

      it(`${name}: leaving a for await loop early takes no more items`, async () => {
        const q = create();
        for (const i of [1, 2]) q.tryPut(i);
        for await (const item of q) {
          expect(item).to.equal(1);
          break;
        }
        expect(q.size).to.equal(1);
        expect(q.tryGet()).to.equal(2);
      });
    });

    if (bounded) {
      describe('putters waiting for room', () => {
        const fill = async (q: Queue<number>) => {
          for (let i = 0; i < q.maxsize; i++) expect(q.tryPut(-1)).to.equal(true);
          expect(q.tryPut(-1), 'full').to.equal(false);
          expect(await q.put(-1, 0)).to.equal(false);
        };
        const drain = (q: Queue<number>, n: number) => Array.from({ length: n }, () => q.tryGet());

        it(`${name}.put() waits while the queue is full; each get() lets the first putter's item in at the back`, async () => {
          const q = create();
          await fill(q);
          const { log, note } = recorder();
          note('a', q.put(1));
          note('b', q.put(2, 1000));
          note('c', q.put(3, { signal: new AbortController().signal }));
          expect(shown(q, 'putters')).to.equal(3);
          await flush();
          expect(log).to.deep.equal([]);
          expect(q.tryGet()).to.equal(-1);
          expect(q.size, 'still full: the first putter took the room').to.equal(q.maxsize);
          await flush();
          expect(log).to.deep.equal(['a:true']);
          const got: number[] = [-1];
          while (q.size > 0) got.push(q.tryGet()!);
          await flush();
          expect(log).to.deep.equal(['a:true', 'b:true', 'c:true']);
          expect(got).to.deep.equal([...Array<number>(q.maxsize).fill(-1), 1, 2, 3]);
          expect(clock.countTimers()).to.equal(0);
        });

        it(`${name}: a tryPut() or put() never barges in ahead of a waiting putter`, async () => {
          const q = create();
          await fill(q);
          const first = track(q.put(1));
          q.tryGet(); // first's item goes in, its continuation has not run yet
          expect(q.tryPut(2)).to.equal(false);
          expect(await q.put(2, 0)).to.equal(false);
          await flush();
          expect(first.value).to.equal(true);
          const items = drain(q, q.maxsize);
          expect(items.at(-1)).to.equal(1);
        });

        it(`${name}.put(item, ms) resolves false when no room comes in time: the item is not added, and the putter leaves at once`, async () => {
          const q = create();
          await fill(q);
          const { log, note } = recorder();
          note('timed', q.put(1, 100));
          note('next', q.put(2));
          await clock.tickAsync(100);
          expect(log).to.deep.equal(['timed:false']);
          expect(shown(q, 'putters')).to.equal(1);
          drain(q, q.maxsize);
          await flush();
          expect(log).to.deep.equal(['timed:false', 'next:true']);
          expect(drain(q, q.size)).to.deep.equal([2]);
          expect(shown(q, 'unfinished'), 'the timed-out item was never counted').to.equal(q.maxsize + 1);
        });

        it(`${name}.put() aborted while waiting rejects with signal.reason, its item never added (and may be put again)`, async () => {
          const q = create();
          await fill(q);
          const ac = new AbortController();
          const t = track(q.put(9, { signal: ac.signal }));
          ac.abort('stop');
          await flush();
          expect(t.reason).to.equal('stop');
          expect(shown(q, 'putters')).to.equal(0);
          expect(abortListeners(ac.signal)).to.equal(0);
          q.tryGet();
          expect(await q.put(9)).to.equal(true);
          expect(drain(q, q.size).at(-1)).to.equal(9);
        });

        it(`${name}.shutdown() refuses the putters waiting, their items not added, and keeps the items in for get()`, async () => {
          const q = create();
          await fill(q);
          const putters = [q.put(1), q.put(2, 1000)].map(track);
          q.shutdown();
          await flush();
          for (const t of putters) {
            expect(t.reason).to.be.instanceOf(QueueShutDownError);
            expect((t.reason as Error).message).to.equal('Queue.put(): the queue is shut down');
          }
          expect(q.size).to.equal(q.maxsize);
          expect(drain(q, q.maxsize).every((i) => i === -1)).to.equal(true);
          expect(clock.countTimers()).to.equal(0);
        });

        it(`${name}: a getter that empties the queue in one go lets every waiting putter through (no hang)`, async () => {
          const q = create();
          const putters = Array.from({ length: q.maxsize + 2 }, (_, i) => q.put(i));
          await flush();
          const got: number[] = [];
          while (q.size > 0) got.push(q.tryGet()!);
          expect(await Promise.all(putters)).to.deep.equal(putters.map(() => true));
          expect(got).to.deep.equal(Array.from({ length: q.maxsize + 2 }, (_, i) => i));
        });
      });
    }

    describe('bad input', () => {
      for (const [label, arg, type, message] of badWaitArguments) {
        it(`${name}.get/put/join(${label}) reject with a ${type.name}, never throw, and leave the queue as it was`, async () => {
          const q = create();
          const get = q.get.bind(q) as (a: unknown) => Promise<number>;
          const put = q.put.bind(q) as (item: number, a: unknown) => Promise<boolean>;
          const join = q.join.bind(q) as (a: unknown) => Promise<boolean>;
          const ts: ReturnType<typeof track<unknown>>[] = [];
          expect(() => ts.push(track(get(arg)), track(put(1, arg)), track(join(arg)))).not.to.throw();
          await flush();
          for (const t of ts) {
            expect(t.reason).to.be.instanceOf(type);
            expect((t.reason as Error).message).to.match(message);
          }
          expect(q.size).to.equal(0);
          expect(shown(q, 'getters') + shown(q, 'putters') + shown(q, 'unfinished')).to.equal(0);
        });
      }
    });
  });
}
