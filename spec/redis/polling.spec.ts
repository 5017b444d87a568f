/**
 * No polling: 100 tasks of one process wait 10 s on a lock held by another process. Every command the
 * waiting process sends in that time is counted on the server (MONITOR, by connection address): no more
 * than the lease upkeep, whatever the number of its tasks. Then the holder releases and the first of
 * them gets the lock at once, the rest in turn.
 */
import { expect } from 'chai';
import { MAIN_KINDS } from './clients.js';
import { subscribed } from './context.js';
import { type Member, killAll, startMember } from './fleet.js';
import { RedisServer } from './server.js';

const WAIT_MS = Number(process.env.REDIS_POLLING_MS ?? 10_000);
const LEASE = 2000;
/** "A few commands per lease period per name": three per lease period, and a few to settle in. */
const UPKEEP = 3 * Math.ceil(WAIT_MS / LEASE) + 3;

for (const kind of MAIN_KINDS) {
  describe(`no polling (${kind})`, function () {
    this.timeout(WAIT_MS + 30_000);
    let server: RedisServer;
    const members: Member[] = [];
    before(async () => {
      server = await RedisServer.start();
    });
    after(async () => {
      await killAll(members.splice(0));
      await server.stop();
    });

    it(`100 tasks waiting ${WAIT_MS / 1000} s on a lock held elsewhere send no more than the lease upkeep, and are released at once after`, async () => {
      const name = `polling-${kind}`;
      const holder = await startMember('agent', { kind, port: server.port }, { REDIS_NAME: 'holder' });
      const waiter = await startMember('agent', { kind, port: server.port }, { REDIS_NAME: 'waiter' });
      members.push(holder, waiter);
      const held = await holder.request({ op: 'acquire', type: 'lock', name, lease: LEASE });
      expect(held.acquired).to.equal(true);
      const queue = waiter.send({ op: 'queue', type: 'lock', name, lease: LEASE, count: 100 });
      await waiter.event('queued');
      await subscribed(server);
      // Let the queueing commands land before counting.
      await new Promise((r) => setTimeout(r, 200));
      const holderAddrs = new Set(await server.addresses('holder'));
      const monitor = await server.monitor();
      await new Promise((r) => setTimeout(r, WAIT_MS));
      await monitor.stop();
      // MONITOR also shows the commands a script runs (from "lua"): the process sent only the script.
      const others = monitor.commands.filter((c) => c.addr !== 'lua' && !holderAddrs.has(c.addr));
      expect(
        others.length,
        `commands from the waiting process in ${WAIT_MS} ms:\n${others.map((c) => c.line).join('\n')}`,
      ).to.be.at.most(UPKEEP);
      const released = performance.now();
      holder.send({ op: 'release', guard: held.id });
      await waiter.event('granted');
      expect(performance.now() - released, 'the first waiter got the lock promptly').to.be.below(500);
      const done = await waiter.answer(queue);
      expect(done.order).to.deep.equal(Array.from({ length: 100 }, (_, i) => i));
      waiter.end();
      holder.end();
      expect(await waiter.exitsWithin(5000)).to.deep.equal({ code: 0, signal: null });
    });
  });
}
