/**
 * Condition.waitFor() with one promise for the whole wait: the predicate runs with the lock held, in a
 * job of its own, and whatever ends the wait leaves the lock held.
 */
import { expect } from 'chai';
import type * as sinon from 'sinon';
import { Condition } from '../lib/index.js';
import { flush, track, withFakeClock } from './helpers.js';

describe('Condition.waitFor()', () => {
  let clock!: sinon.SinonFakeTimers;
  withFakeClock((c) => (clock = c));

  it('Condition.waitFor() evaluates its predicate after release() returns, never inside it', async () => {
    const cond = new Condition();
    const log: string[] = [];
    let ready = false;
    await cond.acquire();
    const t = track(
      cond.waitFor(() => {
        log.push(`predicate (locked: ${cond.locked()})`);
        return ready;
      }),
    );
    await cond.acquire();
    ready = true;
    cond.notify();
    cond.release();
    log.push('release() returned');
    await flush();
    expect(log).to.deep.equal(['predicate (locked: true)', 'release() returned', 'predicate (locked: true)']);
    expect(t.value).to.equal(true);
    cond.release();
  });

  for (const options of [undefined, 1_000]) {
    it(`Condition.waitFor(predicate, ${options}) rejects with the error its predicate throws, the lock held again`, async () => {
      const cond = new Condition();
      let calls = 0;
      await cond.acquire();
      const t = track(
        cond.waitFor(() => {
          if (calls++ > 0) throw new Error('bad state');
          return false;
        }, options),
      );
      await cond.acquire();
      cond.notify();
      cond.release();
      await flush();
      expect((t.reason as Error).message).to.equal('bad state');
      expect(cond.locked()).to.equal(true);
      expect(clock.countTimers()).to.equal(0);
      cond.release();
    });
  }

  it('Condition.waitFor(): a signal aborted while the predicate is due rejects with the reason and passes nothing on', async () => {
    const cond = new Condition();
    const c = new AbortController();
    let done = false;
    await cond.acquire();
    const first = track(cond.waitFor(() => false, { signal: c.signal }));
    await cond.acquire();
    const second = track(cond.waitFor(() => done));
    await cond.acquire();
    cond.notify();
    cond.release(); // the first takes the lock back; its predicate is due in a job of its own
    c.abort('stop');
    await flush();
    expect(first.reason).to.equal('stop');
    expect(cond.locked()).to.equal(true);
    cond.release();
    await flush();
    expect(second.state, 'not woken by a passed-on notification').to.equal('pending');
    expect(cond.locked()).to.equal(false);
    await cond.acquire();
    done = true;
    cond.notify();
    cond.release();
    await flush();
    expect(second.value).to.equal(true);
    cond.release();
  });

  it('Condition.waitFor() whose predicate lets the lock go rejects, leaving nothing queued and nothing uncaught', async () => {
    const cond = new Condition();
    await cond.acquire();
    const first = track(
      cond.waitFor(() => {
        cond.release();
        return false;
      }, 100),
    );
    await flush();
    expect(String(first.reason)).to.match(/needs the lock held/);
    expect(cond.locked()).to.equal(false);
    for (const options of [undefined, 1_000]) {
      await cond.acquire();
      let calls = 0;
      const later = track(cond.waitFor(() => (calls++ === 0 ? false : (cond.release(), false)), options));
      await cond.acquire();
      cond.notify();
      cond.release();
      await flush();
      expect(String(later.reason), `options ${options}`).to.match(/needs the lock held/);
      expect(cond.locked()).to.equal(false);
      await cond.acquire();
      cond.notifyAll(); // nobody is left to notify
      cond.release();
      await flush();
      expect(calls).to.equal(2);
    }
    expect(clock.countTimers()).to.equal(0);
  });

  it('Condition.waitFor() with an aborted signal answers a true predicate, else rejects with the reason', async () => {
    const cond = new Condition();
    await cond.acquire();
    expect(await cond.waitFor(() => 'ready', { signal: AbortSignal.abort('late') })).to.equal('ready');
    const t = track(cond.waitFor(() => 0, { signal: AbortSignal.abort('late') }));
    await flush();
    expect(t.reason).to.equal('late');
    expect(cond.locked()).to.equal(true);
    cond.release();
  });

  it('Condition.waitFor() with a predicate that stays false keeps waiting through notifications, then times out once', async () => {
    const cond = new Condition();
    let checks = 0;
    await cond.acquire();
    const t = track(cond.waitFor(() => (checks++, false), 1_000));
    for (let i = 0; i < 5; i++) {
      await cond.acquire();
      cond.notify();
      cond.release();
      await flush();
    }
    expect([t.state, checks]).to.deep.equal(['pending', 6]);
    await clock.tickAsync(1_000);
    expect([t.value, checks]).to.deep.equal([false, 7]);
    expect(cond.locked()).to.equal(true);
    cond.release();
  });
});
