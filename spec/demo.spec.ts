import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

describe('npm run demo', () => {
  it('the demo tells the race the same way on one thread and with the rabbit in a worker', async () => {
    const demo = fileURLToPath(new URL('../examples/demo.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', demo], { timeout: 60_000 });
    const sections = stdout.split('\n\n').map((s) => s.split('\n').filter(Boolean));
    const [local, worker, condition, event] = sections.map((lines) => lines.slice(1));
    expect(worker).to.deep.equal(local);
    expect(local![0]).to.equal('  Owl: On your marks, get set, go!');
    expect(local!.at(-1)).to.equal('  Owl: Slow and steady wins the race.');
    expect(condition!.filter((l) => l.includes('buys loaf'))).to.have.length(6);
    expect(event!.at(-1)).to.match(/gives up .* with 1 loaf still on the shelf/);
  });
});
