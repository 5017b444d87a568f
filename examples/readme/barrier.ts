// README "Barrier": three workers step through ten rounds, none a round ahead of the others.
import assert from 'node:assert/strict';

const rounds: number[][] = [];
const workers = [0, 1, 2].map((id) => ({
  async step(round: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, id));
    (rounds[round] ??= []).push(id);
    assert.ok(rounds.length === round + 1, 'a worker started a round before the others finished the last');
  },
}));

// #region README
import { Barrier } from 'awaitable-event';

const checkpoint = new Barrier(3);
await Promise.all(
  workers.map(async (worker) => {
    for (let round = 0; round < 10; round++) {
      await worker.step(round);
      await checkpoint.wait(5_000); // nobody starts round + 1 before all finished round
    }
  }),
);
// #endregion

assert.equal(rounds.length, 10);
console.log(`${rounds.length} rounds, in step`);
