/**
 * Whatever object is passed as a signal, the process never crashes, no waiter is stranded, no lock is
 * left in a wrong state, and a wait either works or rejects up front with a TypeError.
 */
import { expect } from 'chai';
import { Condition, Event, Lock, SharedEvent } from '../../lib/index.js';
import { abortListeners, flush, track, waiterCount } from '../helpers.js';

/** Fails the test if anything escapes as an uncaught exception or an unhandled rejection meanwhile. */
function noEscapes(): { check(): void } {
  const escaped: unknown[] = [];
  const onError = (error: unknown) => escaped.push(error);
  beforeEach(() => {
    escaped.length = 0;
    process.on('uncaughtException', onError);
    process.on('unhandledRejection', onError);
  });
  afterEach(() => {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  });
  return {
    check() {
      expect(escaped, 'uncaught errors').to.deep.equal([]);
    },
  };
}

/** Lets a macrotask pass, so an uncaught error thrown in a listener would have been reported. */
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Abort signals that are not what they seem', () => {
  const escapes = noEscapes();

  it('Event.wait() with a Proxy around a real AbortSignal rejects with the reason when it aborts', async () => {
    const e = new Event();
    const c = new AbortController();
    const t = track(e.wait({ signal: new Proxy(c.signal, {}) }));
    c.abort(new Error('stop'));
    await flush();
    await tick();
    escapes.check();
    expect(t.state).to.equal('rejected');
    expect((t.reason as Error).message).to.equal('stop');
    expect(waiterCount(e)).to.equal(0);
  });

  it('a Proxy signal shared by two waits, with the real signal used by a third, aborts all three', async () => {
    const e = new Event();
    const c = new AbortController();
    const proxy = new Proxy(c.signal, {});
    const all = [e.wait({ signal: proxy }), e.wait({ signal: proxy }), e.wait({ signal: c.signal })].map(track);
    c.abort('why');
    await flush();
    await tick();
    escapes.check();
    expect(all.map((t) => t.reason)).to.deep.equal(['why', 'why', 'why']);
    expect(abortListeners(c.signal)).to.equal(0);
  });

  it('an object that only looks like a signal is refused up front with a TypeError, nothing queued', async () => {
    const e = new Event();
    const fake = {
      aborted: false,
      reason: undefined,
      addEventListener() {
        throw new Error('no');
      },
      removeEventListener() {},
    };
    const t = track(e.wait({ timeout: 100, signal: fake as unknown as AbortSignal }));
    await flush();
    expect(t.state).to.equal('rejected');
    expect(t.reason).to.be.instanceOf(TypeError);
    expect(String(t.reason)).to.match(/options\.signal must be an AbortSignal, got Object object/);
    expect(waiterCount(e)).to.equal(0);
  });

  it('Condition.wait() with a signal whose own addEventListener throws still works, the lock kept right', async () => {
    const cond = new Condition();
    const c = new AbortController();
    Object.defineProperty(c.signal, 'addEventListener', {
      value() {
        throw new Error('no listeners here');
      },
    });
    await cond.acquire();
    const waiting = track(cond.wait({ signal: c.signal }));
    await flush();
    expect(cond.locked(), 'released while waiting').to.equal(false);
    await cond.acquire();
    cond.notify();
    cond.release();
    await flush();
    expect(waiting.state).to.equal('fulfilled');
    expect(cond.locked(), 'held again by the waiter').to.equal(true);
    cond.release();
    expect(cond.locked()).to.equal(false);
    escapes.check();
  });

  it('SharedEvent: a signal whose own removeEventListener throws strands no other waiter', async () => {
    const e = new SharedEvent();
    const c = new AbortController();
    Object.defineProperty(c.signal, 'removeEventListener', {
      value() {
        throw new Error('cannot remove');
      },
    });
    const first = track(e.wait({ signal: c.signal }));
    const second = track(e.wait());
    e.set();
    await flush();
    await tick();
    escapes.check();
    expect([first.state, second.state]).to.deep.equal(['fulfilled', 'fulfilled']);
    expect(abortListeners(c.signal)).to.equal(0);
  });

  it('a synthetic abort event on a signal that is not aborted is ignored; the real abort still counts', async () => {
    const lock = new Lock();
    const c = new AbortController();
    await lock.acquire();
    const t = track(lock.acquire({ signal: c.signal }));
    c.signal.dispatchEvent(new globalThis.Event('abort'));
    await flush();
    expect(t.state).to.equal('pending');
    c.abort('real');
    await flush();
    expect(t.state).to.equal('rejected');
    expect(t.reason).to.equal('real');
    expect(lock.locked()).to.equal(true);
    lock.release();
    expect(lock.locked(), 'not handed to the aborted waiter').to.equal(false);
    escapes.check();
  });

  it('a signal that overrides its own reason getter still rejects the wait with the real reason', async () => {
    const e = new Event();
    const c = new AbortController();
    Object.defineProperty(c.signal, 'reason', {
      get() {
        throw new Error('no reason');
      },
    });
    const t = track(e.wait({ signal: c.signal }));
    c.abort('the real one');
    await flush();
    await tick();
    escapes.check();
    expect(t.state).to.equal('rejected');
    expect(t.reason).to.equal('the real one');
  });
});
