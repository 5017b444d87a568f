/**
 * Queue, after the intent of CPython's Lib/test/test_asyncio/test_queues.py (3.13, with the shutdown
 * tests); the shared contract is in queue-suite.ts, run here with and without a maxsize.
 *
 * Ported (in queue-suite.ts or below): test_empty / test_full / test_order / test_maxsize,
 * test_blocking_get(_wait), test_nonblocking_get, test_get_with_putters, test_get_with_waiting_putters,
 * test_get_cancelled(_race), test_blocking_put(_wait), test_nonblocking_put, test_put_cancelled(_race),
 * test_put_cancel_drop, test_put_with_waiting_getters, test_why_are_putters_waiting,
 * test_cancelled_puts_not_being_held_in_self_putters, test_task_done(_underflow), test_join_empty_queue,
 * test_shutdown_empty / _nonempty / _immediate / _immediate_with_unfinished, and the repr tests as
 * util.inspect.
 *
 * Not ported, and why:
 * - test_ctor_loop / test_ctor_noloop and the loop-binding tests: there is no event loop object to bind.
 * - LifoQueue and PriorityQueue (their test_order and their join / shutdown mixins): only the FIFO queue
 *   exists here.
 * - test_float_maxsize: a maxsize must be a whole number (or Infinity) here; 1.3 is a RangeError.
 * - test_nonblocking_get_exception / test_nonblocking_put_exception (QueueEmpty / QueueFull): tryGet()
 *   returns undefined and tryPut() returns false instead of raising.
 * - test_cancelled_put_silence_value_error_exception and the "undefined order of concurrent readers"
 *   part of test_cancelled_getter: they guard Python's wake-then-recheck design, where a woken getter may
 *   lose its item to another and re-queue; here an item is handed straight to the first getter, so the
 *   order is defined (FIFO) and checked instead.
 * - test_format (`_format()`): a private helper; util.inspect is checked instead.
 */
import { expect } from 'chai';
import { inspect } from 'node:util';
import { Queue } from '../lib/index.js';
import { queueSuite } from './queue-suite.js';
import { flush, track, withFakeClock } from './helpers.js';

queueSuite('Queue()', () => new Queue<number>());
queueSuite('Queue(3)', () => new Queue<number>(3));

/** Sizes not accepted as a maxsize, with the error each gets. */
const badSizes: [string, unknown, typeof TypeError | typeof RangeError, RegExp][] = [
  ['a string', '2', TypeError, /^maxsize must be a number, got string "2"/],
  ['null', null, TypeError, /^maxsize must be a number, got null/],
  ['0', 0, RangeError, /^maxsize must be a whole number, 1 or more, got 0/],
  ['negative', -1, RangeError, /got -1/],
  ['a fraction', 1.3, RangeError, /got 1\.3/],
  ['NaN', NaN, RangeError, /got NaN/],
  ['2^53', 2 ** 53, RangeError, /^maxsize must be at most 2\^53 - 1 or Infinity, got 9007199254740992/],
];

describe('Queue', () => {
  withFakeClock(() => {});

  it('Queue: maxsize defaults to Infinity, and a whole number of at least 1 is accepted', () => {
    expect(new Queue().maxsize).to.equal(Infinity);
    expect(new Queue(Infinity).maxsize).to.equal(Infinity);
    expect(new Queue(1).maxsize).to.equal(1);
  });

  for (const [label, value, type, message] of badSizes) {
    it(`new Queue(${label}) throws a ${type.name} naming maxsize`, () => {
      expect(() => new Queue(value as number)).to.throw(type, message);
    });
  }

  it('Queue(1): the putter blocked after one item resumes as soon as the item is taken (test_maxsize)', async () => {
    const q = new Queue<number>(1);
    const put: number[] = [];
    const putter = track(
      (async () => {
        for (const i of [0, 1, 2]) {
          await q.put(i);
          put.push(i);
        }
      })(),
    );
    await flush();
    expect(put).to.deep.equal([0]);
    expect(q.tryGet()).to.equal(0);
    await flush();
    expect(put).to.deep.equal([0, 1]);
    expect([q.tryGet(), await q.get()]).to.deep.equal([1, 2]);
    await flush();
    expect(putter.state).to.equal('fulfilled');
  });

  it('Queue shows its state in util.inspect and Object.prototype.toString', async () => {
    const q = new Queue<string>(1);
    expect(inspect(q, { breakLength: Infinity })).to.equal(
      'Queue { size: 0, maxsize: 1, getters: 0, putters: 0, unfinished: 0, shutDown: false }',
    );
    const got = q.get();
    expect(inspect(q)).to.match(/getters: 1/);
    q.tryPut('a');
    await got;
    q.tryPut('b');
    const put = q.put('c');
    expect(inspect(q, { breakLength: Infinity })).to.equal(
      'Queue { size: 1, maxsize: 1, getters: 0, putters: 1, unfinished: 2, shutDown: false }',
    );
    q.shutdown();
    await put.catch(() => {});
    expect(inspect(q, { breakLength: Infinity })).to.equal(
      'Queue { size: 1, maxsize: 1, getters: 0, putters: 0, unfinished: 2, shutDown: true }',
    );
    expect(Object.prototype.toString.call(q)).to.equal('[object Queue]');
  });

  it('Queue: an item that is a promise is awaited by get(), as any promise result is', async () => {
    const q = new Queue<Promise<number> | number>();
    q.tryPut(Promise.resolve(5));
    expect(await q.get()).to.equal(5);
  });

  it('Queue: for await rethrows the rejection of an item that is a rejected promise, instead of ending as if shut down', async () => {
    const q = new Queue<Promise<number>>();
    const boom = new Error('boom');
    const failed = Promise.reject(boom);
    failed.catch(() => {});
    q.tryPut(Promise.resolve(1));
    q.tryPut(failed);
    q.tryPut(Promise.resolve(3));
    const seen: number[] = [];
    let error: unknown;
    try {
      for await (const item of q) seen.push(item);
    } catch (e) {
      error = e;
    }
    expect(seen).to.deep.equal([1]);
    expect(error).to.equal(boom);
    expect(await q.get()).to.equal(3);
  });

  it('Queue: a burst of 3,000 items, all taken, leaves an empty queue that goes on in order', async () => {
    const q = new Queue<number>();
    for (let i = 0; i < 3_000; i++) q.tryPut(i);
    for (let i = 0; i < 3_000; i++) expect(q.tryGet()).to.equal(i);
    expect(q.size).to.equal(0);
    q.tryPut(1);
    q.tryPut(2);
    expect([await q.get(), await q.get()]).to.deep.equal([1, 2]);
  });

  it('Queue: items of any value, undefined included, go through put() and get()', async () => {
    const q = new Queue<unknown>();
    const got = q.get();
    q.tryPut(undefined);
    expect(await got).to.equal(undefined);
    q.tryPut(null);
    expect(await q.get()).to.equal(null);
  });
});
