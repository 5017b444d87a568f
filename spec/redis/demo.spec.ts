import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

describe('npm run demo:redis', () => {
  let lines: string[];
  before(async function () {
    this.timeout(60_000);
    const demo = fileURLToPath(new URL('../../examples/redis-demo.ts', import.meta.url));
    // It starts its own redis-server, and must stop it and exit by itself: a hang fails here.
    const env = { ...process.env, REDIS_URL: undefined };
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', demo], { timeout: 50_000, env });
    lines = stdout.split('\n').map((l) => l.trim());
  });

  const said = (name: string, what: RegExp) => lines.filter((l) => l.startsWith(`${name}:`) && what.test(l));
  const replicas = ['web-1', 'web-2', 'worker'];

  it('runs the migrations once, and no replica starts serving before they are done', () => {
    expect(lines.filter((l) => /runs the migrations$/.test(l))).to.deep.equal(['web-1: runs the migrations']);
    const done = lines.indexOf('web-1: migrations done (schema version 3), sets the event');
    for (const name of ['web-2', 'worker']) {
      const waits = lines.indexOf(`${name}: waits for the migrations`);
      const serves = lines.indexOf(`${name}: sees the migrations done (schema version 3), starts serving`);
      expect(waits, `${name} waits`).to.be.within(0, done);
      expect(serves, `${name} serves after the migrations`).to.be.greaterThan(done);
    }
  });

  it('runs the nightly job exactly once across the fleet; the others find it done', () => {
    const runs = replicas.flatMap((name) => said(name, /runs the nightly job \(fencing token \d+\)$/));
    expect(runs).to.have.length(1);
    const runner = runs[0]!.split(':')[0]!;
    const others = replicas.filter((name) => name !== runner);
    for (const name of others) {
      expect(said(name, new RegExp(`finds the nightly job already done by ${runner}, skips it$`))).to.have.length(1);
    }
    expect(lines).to.include('The nightly job ran 1 time(s) across the fleet.');
  });

  it('makes all nine slow API calls, never more than 2 at once fleet-wide', () => {
    const inFlight = lines.flatMap((l) => /\((?:call \d), (\d) of 2 in flight fleet-wide\)$/.exec(l)?.[1] ?? []);
    expect(inFlight).to.have.length(9);
    expect(Math.max(...inFlight.map(Number))).to.equal(2); // the limit is used, and never passed
    for (const name of replicas) expect(said(name, /calls the slow API/)).to.have.length(3);
    expect(lines).to.include('9 slow API calls, never more than 2 at once.');
  });

  it('every replica finishes, and the demo says no replica failed', () => {
    for (const name of replicas) expect(lines).to.include(`${name}: done`);
    expect(lines.some((l) => l.startsWith('A replica failed'))).to.equal(false);
  });
});
