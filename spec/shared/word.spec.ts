import { expect } from 'chai';
import { Word, assertMayBlock, mayBlock, threadHolds } from '../../lib/shared/word.js';
import { Collected, collectGarbage, fakeClock, flush } from '../helpers.js';

const realWaitAsync = Atomics.waitAsync;

/** A listener that records, in `log`, each time it is told under its name. */
function listener(log: string[], name: string, then?: () => void) {
  return {
    wordMoved() {
      log.push(name);
      then?.();
    },
  };
}

/** Another thread's write: the value, then a notify of every waiter. */
function write(word: Word, value: number): void {
  const view = new Int32Array(word.array.buffer, word.array.byteOffset, 1);
  Atomics.store(view, 0, value);
  Atomics.notify(view, 0);
}

/**
 * Waits until `done()` holds, for at most 2 s of real time: an engine waiter's wake-up is a task of its own,
 * which a busy machine may run after a timer of 0 ms.
 */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
}

/** A few turns of the event loop, for a wake-up that must tell nobody. */
async function turns(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 1));
}

describe('Word: the engine side of a shared word', () => {
  /** Holds of this thread before the test (a pending wait of an earlier test may hold it). */
  let holds: number;
  beforeEach(() => {
    holds = threadHolds();
    expect(typeof Atomics.waitAsync, 'Atomics.waitAsync before the test').to.equal('function');
  });

  it('Word.of() gives one Word per buffer object and offset on this thread', () => {
    const buffer = new SharedArrayBuffer(8);
    const word = Word.of(buffer, 4);
    expect(Word.of(buffer, 4)).to.equal(word);
    expect(Word.of(buffer, 0)).to.not.equal(word);
    expect(Word.of(new SharedArrayBuffer(8), 4)).to.not.equal(word);
    expect(word.array.byteOffset).to.equal(4);
    expect(word.array.length).to.equal(1);
  });

  it('Word.of() made again after its Word was collected gives a working Word on the same memory', async () => {
    const buffer = new SharedArrayBuffer(4);
    const first = new Collected();
    (() => first.add(Word.of(buffer, 0)))();
    await new Promise((r) => setTimeout(r, 0));
    globalThis.gc!(); // collected, its finalizer not run yet
    const word = Word.of(buffer, 0);
    await collectGarbage(() => first.count === 1); // the finalizers of the collected one have run
    const log: string[] = [];
    expect(word.watch(0, listener(log, 'a'))).to.equal(true);
    write(word, 1);
    await until(() => log.length === 1);
    expect(log).to.deep.equal(['a']);
  });

  it('Word.watch() refuses, registering nothing, when the word is not the value expected', async () => {
    const word = Word.of(new SharedArrayBuffer(4), 0);
    const log: string[] = [];
    expect(word.watch(1, listener(log, 'a'))).to.equal(false);
    expect(threadHolds()).to.equal(holds);
    write(word, 2);
    word.check();
    await flush();
    expect(log).to.deep.equal([]);
  });

  it('Word: a listener is told once, after watch() returned, when the engine says the word moved already', async () => {
    const word = Word.of(new SharedArrayBuffer(4), 0);
    const log: string[] = [];
    Atomics.waitAsync = ((array: Int32Array, index: number) => {
      Atomics.store(array, index, 7); // another thread's write lands between the check and the wait
      return { async: false, value: 'not-equal' };
    }) as unknown as typeof Atomics.waitAsync;
    try {
      expect(word.watch(0, listener(log, 'a'))).to.equal(true);
    } finally {
      Atomics.waitAsync = realWaitAsync;
    }
    expect(log).to.deep.equal([]);
    await flush();
    expect(log).to.deep.equal(['a']);
    expect(threadHolds()).to.equal(holds);
  });

  it('Word.check() tells, in order, only the listeners whose value the word left', () => {
    const word = Word.of(new SharedArrayBuffer(4), 0);
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((n) => listener(log, n));
    word.watch(0, a!);
    word.watch(0, b!);
    Atomics.store(word.array, 0, 2);
    word.watch(2, c!);
    expect(threadHolds()).to.equal(holds + 1);
    word.check();
    expect(log).to.deep.equal(['a', 'b']);
    word.unwatch(b!); // not registered any more: nothing happens
    expect(threadHolds()).to.equal(holds + 1);
    word.unwatch(c!);
    expect(threadHolds()).to.equal(holds);
  });

  it('Word: a listener that watches again from wordMoved() is told of the next move', async () => {
    const word = Word.of(new SharedArrayBuffer(4), 0);
    const log: string[] = [];
    const again = listener(log, 'moved', () => {
      if (log.length < 3) expect(word.watch(word.load(), again)).to.equal(true);
    });
    word.watch(0, again);
    for (let value = 1; value <= 3; value++) {
      write(word, value);
      await until(() => log.length === value);
      expect(log.length).to.equal(value);
    }
    expect(threadHolds()).to.equal(holds);
  });

  it('Word: one engine waiter serves every listener of the thread, and stays for the next one after they leave', async () => {
    const word = Word.of(new SharedArrayBuffer(4), 0);
    const log: string[] = [];
    const ls = ['a', 'b', 'c'].map((n) => listener(log, n));
    for (const l of ls) word.watch(0, l);
    expect(Atomics.notify(word.array, 0)).to.equal(1);
    await turns(); // the spurious wake-up re-arms it, telling nobody
    expect(log).to.deep.equal([]);
    for (const l of ls) word.unwatch(l);
    word.watch(0, ls[0]!);
    word.unwatch(ls[0]!);
    expect(Atomics.notify(word.array, 0)).to.equal(1);
  });

  it('Word: a listener that writes the word from wordMoved() and checks it gets the others told in the same scan', () => {
    const word = Word.of(new SharedArrayBuffer(4), 0);
    const log: string[] = [];
    const b = listener(log, 'b');
    const a = listener(log, 'a', () => {
      write(word, 2);
      word.check();
    });
    word.watch(0, a);
    Atomics.store(word.array, 0, 1);
    word.watch(1, b);
    word.check();
    expect(log).to.deep.equal(['a', 'b']);
    expect(threadHolds()).to.equal(holds);
  });

  it('Word: when the word moves just as the engine waiter is armed again, its listeners are told at once', async () => {
    const word = Word.of(new SharedArrayBuffer(4), 0);
    const log: string[] = [];
    const a = listener(log, 'a');
    word.watch(0, a);
    Atomics.waitAsync = ((array: Int32Array, index: number) => {
      Atomics.waitAsync = realWaitAsync;
      Atomics.store(array, index, 5);
      return { async: false, value: 'not-equal' };
    }) as unknown as typeof Atomics.waitAsync;
    try {
      expect(Atomics.notify(word.array, 0)).to.equal(1); // a spurious wake-up: the Word arms again
      await until(() => log.length > 0);
    } finally {
      Atomics.waitAsync = realWaitAsync;
    }
    expect(log).to.deep.equal(['a']);
    expect(threadHolds()).to.equal(holds);
  });

  it('Word: a Word made again on memory whose last Word was collected ends up with one engine waiter there, whether or not the finalizer ran first', async () => {
    // Made before the collected Word's finalizer ran, the new Word reuses the engine waiter it left; made
    // after, it finds that waiter woken by the finalizer and arms again once the wake-up has run. Which of
    // the two happens here is up to the collector: both must end with one engine waiter, not two or none.
    const buffer = new SharedArrayBuffer(4);
    const collected = new Collected();
    const old = (() => {
      const word = Word.of(buffer, 0);
      const a = listener([], 'a');
      word.watch(0, a);
      word.unwatch(a);
      collected.add(word);
      return new WeakRef(word);
    })();
    await collectGarbage(() => old.deref() === undefined);
    expect(old.deref()).to.equal(undefined);
    const word = Word.of(buffer, 0);
    const log: string[] = [];
    word.watch(0, listener(log, 'b'));
    await collectGarbage(() => collected.count === 1); // the collected Word's finalizers have run
    await turns(); // and the wake-up of a waiter they woke
    expect(Atomics.notify(new Int32Array(buffer), 0)).to.equal(1); // one engine waiter, not two
    await turns();
    expect(log).to.deep.equal([]);
    write(word, 1);
    await until(() => log.length === 1);
    expect(log).to.deep.equal(['b']);
    expect(Atomics.notify(new Int32Array(buffer), 0)).to.equal(0);
  });

  describe('without Atomics.waitAsync (the polling fallback)', () => {
    let clock: ReturnType<typeof fakeClock>;
    beforeEach(() => {
      delete (Atomics as { waitAsync?: unknown }).waitAsync;
      clock = fakeClock();
    });
    afterEach(() => {
      const left = clock.countTimers();
      clock.restore();
      Atomics.waitAsync = realWaitAsync;
      expect(left, 'timers left').to.equal(0);
    });

    it('Word polls after 1 ms, doubling up to 32 ms while nothing moves, and back to 1 ms after a move', async () => {
      const word = Word.of(new SharedArrayBuffer(4), 0);
      const log: string[] = [];
      const times: number[] = [];
      const again = listener(log, 'moved', () => {
        times.push(clock.now);
        if (log.length < 2) word.watch(word.load(), again);
      });
      word.watch(0, again);
      for (const delay of [1, 2, 4, 8, 16, 32, 32]) {
        await clock.tickAsync(delay - 1);
        expect(clock.countTimers()).to.equal(1);
        await clock.tickAsync(1);
      }
      expect(log).to.deep.equal([]);
      Atomics.store(word.array, 0, 1);
      await clock.tickAsync(32);
      expect(times).to.deep.equal([95 + 32]);
      Atomics.store(word.array, 0, 2);
      await clock.tickAsync(1);
      expect(times).to.deep.equal([127, 128]);
    });

    it('Word stops polling when its last listener leaves', () => {
      const word = Word.of(new SharedArrayBuffer(4), 0);
      const a = listener([], 'a');
      word.watch(0, a);
      expect(clock.countTimers()).to.equal(1);
      word.unwatch(a);
      expect(clock.countTimers()).to.equal(0);
      expect(threadHolds()).to.equal(holds);
    });
  });

  it('Word.waitSync() answers at once whether the word left the value, and blocks no longer than its timeout', () => {
    const word = Word.of(new SharedArrayBuffer(4), 0);
    expect(word.waitSync(1, 1_000)).to.equal(true);
    expect(word.waitSync(0, 0)).to.equal(false);
    expect(word.waitSync(0, 5)).to.equal(false);
  });

  it('mayBlock() is true on Node’s main thread, so assertMayBlock() lets the caller block', () => {
    expect(mayBlock()).to.equal(true);
    expect(() => assertMayBlock('X.waitSync()', 'await x.wait()')).to.not.throw();
  });
});
