/**
 * Across processes: waiters of several processes served first come first served, a set() reaching every
 * process, and a process whose waits have all settled and whose client is closed ending by itself.
 */
import { expect } from 'chai';
import { RedisLock, RedisSemaphore } from '../../lib/redis/index.js';
import { type AnyClient, MAIN_KINDS, closeClient, connectClient } from './clients.js';
import { type Member, killAll, startMember, within } from './fleet.js';
import { RedisServer, eventually } from './server.js';

for (const kind of MAIN_KINDS) {
  describe(`across processes (${kind})`, function () {
    this.timeout(60_000);
    let server: RedisServer;
    let client: AnyClient;
    const members: Member[] = [];
    before(async () => {
      server = await RedisServer.start();
      client = await connectClient(kind, server.port);
    });
    after(async () => {
      await killAll(members.splice(0));
      await closeClient(client);
      await server.stop();
    });
    const member = async () => {
      const m = await startMember('agent', { kind, port: server.port });
      members.push(m);
      return m;
    };

    for (const type of ['lock', 'semaphore'] as const) {
      it(`${type}: waiters of three processes get it in the order they arrived, with increasing tokens`, async () => {
        const name = `fifo-${type}-${kind}`;
        const holder = await (
          type === 'lock' ? new RedisLock(client, name) : new RedisSemaphore(client, name, 1)
        ).acquire();
        const fleet = [await member(), await member(), await member()];
        const ids: number[] = [];
        for (const [i, m] of fleet.entries()) {
          ids.push(m.send({ op: 'acquire', type, name, permits: 1 }));
          // In line once its subscription shows on the server: a process subscribes when Redis answers
          // that its waiter must wait, which is after the waiter joined the line.
          await eventually(async () => (await server.pubsubClients()) >= i + 1, 5000, `process ${i} waiting`);
        }
        await holder.release();
        const tokens: number[] = [];
        for (const [i, m] of fleet.entries()) {
          const got = await m.answer(ids[i]!);
          expect(got.acquired).to.equal(true);
          tokens.push(got.token as number);
          for (const later of fleet.slice(i + 1)) {
            expect(
              later.lines.some((l) => l.acquired === true),
              `process ${i} holds it, nobody after it`,
            ).to.equal(false);
          }
          await m.request({ op: 'release', guard: ids[i] });
        }
        expect(tokens[0]).to.be.above(holder.token);
        expect(tokens[1]).to.be.above(tokens[0]!);
        expect(tokens[2]).to.be.above(tokens[1]!);
        for (const m of fleet) m.end();
        for (const m of fleet) expect(await m.exitsWithin(5000)).to.deep.equal({ code: 0, signal: null });
      });
    }

    it('set() in one process releases the waiters of every other process', async () => {
      const name = `fanout-${kind}`;
      const fleet = [await member(), await member(), await member()];
      const waits = fleet.map((m) => [m.send({ op: 'wait', name }), m.send({ op: 'wait', name, timeout: 20_000 })]);
      await eventually(async () => (await server.pubsubClients()) >= 3, 5000, 'three processes waiting');
      const setter = await member();
      await setter.request({ op: 'set', name });
      for (const [i, m] of fleet.entries()) {
        for (const id of waits[i]!) expect((await m.answer(id)).result).to.equal(true);
      }
      for (const m of [...fleet, setter]) m.end();
      for (const m of [...fleet, setter]) expect(await m.exitsWithin(5000)).to.deep.equal({ code: 0, signal: null });
    });

    it('a process whose waits settled every way and whose client is closed exits by itself', async () => {
      const name = `exit-${kind}`;
      const holder = await new RedisLock(client, name).acquire();
      const m = await member();
      const timed = [
        m.send({ op: 'wait', name, timeout: 50 }),
        m.send({ op: 'acquire', type: 'lock', name, timeout: 50 }),
        m.send({ op: 'acquire', type: 'semaphore', name: `${name}-s`, permits: 2, timeout: 50 }),
      ];
      const results = [];
      for (const id of timed) results.push(await within(m.answer(id), 5000, `an answer in ${JSON.stringify(m.lines)}`));
      expect(results.map((r) => r.result ?? r.acquired)).to.deep.equal([false, false, true]);
      const untimed = m.send({ op: 'acquire', type: 'lock', name, lease: 1000 });
      await eventually(async () => (await server.pubsubClients()) >= 1, 5000, 'the process waiting');
      await holder.release();
      expect((await within(m.answer(untimed), 5000, 'the untimed acquire')).acquired).to.equal(true);
      await m.request({ op: 'release', guard: untimed });
      await m.request({ op: 'release', guard: timed[2] });
      m.end();
      expect(await m.exitsWithin(5000)).to.deep.equal({ code: 0, signal: null });
      expect(m.lines.filter((l) => l.event === 'unhandledRejection')).to.deep.equal([]);
    });
  });
}
