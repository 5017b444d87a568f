// README "Condition": a consumer waits for the item a producer adds later.
import assert from 'node:assert/strict';

// #region README
import { Condition } from 'awaitable-event';

const items: string[] = [];
const cond = new Condition();

async function consume(): Promise<string> {
  await cond.acquire();
  try {
    await cond.waitFor(() => items.length > 0); // checked under the lock: nothing slips in between
    return items.shift()!;
  } finally {
    cond.release();
  }
}

async function produce(item: string): Promise<void> {
  await cond.acquire();
  try {
    items.push(item);
    cond.notify();
  } finally {
    cond.release();
  }
}
// #endregion

const [taken] = await Promise.all([consume(), produce('bread')]);
assert.equal(taken, 'bread');
console.log(`consumed ${taken}`);
