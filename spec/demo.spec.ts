import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { hike } from '../examples/barrier-hike.js';
import { connectionPool } from '../examples/pool.js';

describe('npm run demo', () => {
  let sections: string[][];
  before(async function () {
    this.timeout(60_000); // as long as the run may take: the demo starts workers, slow on a loaded machine
    const demo = fileURLToPath(new URL('../examples/demo.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', demo], { timeout: 60_000 });
    // Each section: a heading, then its lines.
    sections = stdout.split('\n\n').map((s) => s.split('\n').filter(Boolean));
  });

  it("opens with the seed's race, in the seed's order, on one thread and with the rabbit in a worker", () => {
    const seed = [
      'rabbit waits 5 seconds',
      'go turtle',
      'signal rabbit',
      'go rabbit',
      'rabbit done',
      'turtle done',
    ].map((line) => `  ${line}`);
    expect(sections[0]).to.deep.equal(["The seed's race, on one thread (Event):", ...seed]);
    expect(sections[1]).to.deep.equal(["The seed's race again, the rabbit in a worker thread (SharedEvent):", ...seed]);
  });

  it('tells the longer race the same way on one thread and with the rabbit in a worker', () => {
    const [local, worker] = sections.slice(2, 4).map((lines) => lines.slice(1));
    expect(worker).to.deep.equal(local);
    expect(local![0]).to.equal('  Owl: On your marks, get set, go!');
    expect(local!.at(-1)).to.equal('  Owl: Slow and steady wins the race.');
  });

  it('sells every loaf with a Condition, and loses a wake-up with an Event and clear()', () => {
    const [condition, event] = sections.slice(4, 6).map((lines) => lines.slice(1));
    expect(condition!.filter((l) => l.includes('buys loaf'))).to.have.length(6);
    expect(condition!.at(-1)).to.equal('  Every loaf sold, none twice.');
    expect(event).to.deep.equal([
      '  Baker: loaf 1 on the shelf, sets the event.',
      '  Baker: loaf 2 on the shelf, sets the event.',
      '  Ann: buys loaf 1.',
      '  Ann: gives up after 100 ms of silence, with 1 loaf still on the shelf.',
    ]);
  });

  it('sells every loaf once with a Queue, and the customers go home when it is shut down', () => {
    const [heading, ...lines] = sections[6]!;
    expect(heading).to.match(/Queue of two loaves \(Queue\)/);
    const bought = lines.filter((l) => l.includes('buys loaf')).map((l) => Number(/loaf (\d)/.exec(l)![1]));
    expect(bought).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(lines.at(-1)).to.equal('  Every loaf sold, none twice, and the shop closed.');
  });

  it('lets readers share the book, the editor have it alone, and a later reader wait for the new edition', () => {
    const [heading, ...lines] = sections[7]!;
    expect(heading).to.match(/ReadWriteLock/);
    expect(lines).to.include('  Bob reads edition 1 (2 reading).');
    const alone = lines.indexOf('  Editor has the book alone (0 reading) and revises it.');
    expect(alone).to.be.above(lines.indexOf('  Bob is done reading.'));
    expect(lines.indexOf('  Cid asks for the book.')).to.be.below(alone);
    expect(lines.indexOf('  Cid reads edition 2 (1 reading).')).to.be.above(
      lines.indexOf('  Editor is done: edition 2.'),
    );
  });

  it('launches only once the latch has counted every check down', () => {
    const [heading, ...lines] = sections[8]!;
    expect(heading).to.match(/CountdownLatch/);
    expect(lines.at(-2)).to.equal('  Check crew: done (0 to go).');
    expect(lines.at(-1)).to.equal('  Control: every check done. Launch!');
  });

  it('the pool serves ten tasks in order, three at a time, and the hikers never run ahead of the slowest', async () => {
    const pool: string[] = [];
    await connectionPool((line) => pool.push(line));
    const served = pool.filter((l) => l.includes('gets connection')).map((l) => Number(/Task (\d+)/.exec(l)![1]));
    expect(served).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(pool.at(-1)).to.match(/never more than 3 connections/);

    const walk: string[] = [];
    await hike((line) => walk.push(line));
    const reached = walk.filter((l) => l.includes('reaches')).map((l) => Number(/checkpoint (\d)/.exec(l)![1]));
    expect(reached).to.deep.equal([1, 1, 1, 2, 2, 2, 3, 3, 3]);
    expect(walk.filter((l) => l.includes('was the last one there'))).to.have.length(3);
  });

  it('sells every loaf once across worker threads with a SharedCondition, in the order of events', () => {
    const [heading, ...lines] = sections.find((section) => /across threads/.test(section[0]!))!;
    expect(heading).to.match(/across threads.*SharedCondition/);
    const bought = lines.filter((l) => l.includes('buys loaf')).map((l) => Number(/loaf (\d)/.exec(l)![1]));
    expect(bought).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(lines.at(-1)).to.equal('  Every loaf sold, none twice.');
  });

  it('lets four workers scan two pages each, never more than two at the scanner at once', () => {
    const [heading, ...lines] = sections.find((section) => /SharedSemaphore/.test(section[0]!))!;
    expect(heading).to.match(/four workers, at most two at a time \(SharedSemaphore\)/);
    const scans = lines.filter((l) => l.includes('scans page'));
    expect(scans).to.have.length(8);
    for (const who of ['Ann', 'Bob', 'Cid', 'Dee']) {
      expect(scans.filter((l) => l.startsWith(`  ${who}: scans page`))).to.have.length(2);
    }
    const at = scans.map((l) => Number(/\((\d) at the scanner\)/.exec(l)![1]));
    expect(Math.max(...at)).to.be.at.most(2);
    expect(lines.at(-1)).to.match(/^ {2}Every page scanned; never more than [12] at the scanner at once\.$/);
  });
});
