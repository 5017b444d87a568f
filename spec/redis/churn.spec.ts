/**
 * Exclusion under churn: 20 processes on one RedisLock and one RedisSemaphore(3) (spec/redis/fleet/churn.ts),
 * for REDIS_CHURN_MS (10 s in npm test; `npm run soak:redis` runs the 60 s the contract names). Never two
 * holders of the lock nor four of the semaphore, tokens strictly increasing in grant order, nobody stranded,
 * every process exits by itself.
 */
import { expect } from 'chai';
import { MAIN_KINDS } from './clients.js';
import { type Member, killAll, startMember, within } from './fleet.js';
import { RedisServer } from './server.js';

const CHURN_MS = Number(process.env.REDIS_CHURN_MS ?? 10_000);
const PROCESSES = Number(process.env.REDIS_CHURN_PROCESSES ?? 20);

for (const kind of MAIN_KINDS) {
  describe(`exclusion under churn (${kind})`, function () {
    this.timeout(CHURN_MS + 120_000);
    let server: RedisServer;
    const members: Member[] = [];
    before(async () => {
      server = await RedisServer.start();
    });
    after(async () => {
      await killAll(members.splice(0));
      await server.stop();
    });

    it(`${PROCESSES} processes for ${CHURN_MS / 1000} s: one lock holder and three semaphore holders at most, tokens increasing, nobody stranded, every process exits by itself`, async () => {
      const env = { CHURN_NAME: `churn-${kind}`, CHURN_MS: String(CHURN_MS) };
      const started = await Promise.all(
        Array.from({ length: PROCESSES }, () => startMember('churn', { kind, port: server.port }, env)),
      );
      members.push(...started);
      for (const m of started) m.send({ op: 'go' });
      // Stranded: a process still waiting long after the churn ended (every wait in it is short or served).
      const reports = await Promise.all(
        started.map((m) => within(m.event('done'), CHURN_MS + 30_000, `process ${m.pid} done (it is stranded)`)),
      );
      const exits = await Promise.all(started.map((m) => m.exitsWithin(10_000)));
      const total = (key: string) => reports.reduce((sum, r) => sum + (r[key] as number), 0);
      expect(total('overlaps'), 'critical sections that found too many holders').to.equal(0);
      expect(total('stale'), 'lock grants whose token was not above every earlier one').to.equal(0);
      expect(total('lost'), 'guards that lost their lease during the churn').to.equal(0);
      expect(total('wrongReason'), 'aborted acquires that rejected with something else').to.equal(0);
      expect(total('grants'), 'grants').to.be.above(PROCESSES);
      expect(total('timeouts'), 'timed-out waits').to.be.above(0);
      expect(total('aborts'), 'aborted waits').to.be.above(0);
      const tokens = reports.flatMap((r) => r.semaphoreTokens as number[]);
      expect(new Set(tokens).size, 'semaphore tokens are all distinct').to.equal(tokens.length);
      for (const m of started) {
        expect(m.lines.filter((l) => l.event === 'unhandledRejection' || l.event === 'output')).to.deep.equal([]);
        expect(m.stderr.join('')).to.equal('');
      }
      expect(
        exits.every((e) => e.code === 0 && e.signal === null),
        JSON.stringify(exits),
      ).to.equal(true);
      const holders = await server.cli('MGET', `churn-${kind}-lock-holders`, `churn-${kind}-sem-holders`);
      expect(holders.split('\n')).to.deep.equal(['0', '0']);
    });
  });
}
