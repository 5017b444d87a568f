// README "Semaphore": six pages fetched through a pool of three, never more than three at once.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

const urls = ['a', 'b', 'c', 'd', 'e', 'f'];
let running = 0;
let most = 0;
async function fetchPage(url: string): Promise<string> {
  most = Math.max(most, ++running);
  await sleep(5);
  running--;
  return `page ${url}`;
}

// #region README
import { Semaphore } from 'awaitable-event';

const pool = new Semaphore(3); // three connections
const pages = await Promise.all(
  urls.map(
    (url) => pool.runExclusive(() => fetchPage(url), { timeout: 10_000 }), // never more than 3 at once
  ),
);
// #endregion

assert.equal(pages.length, 6);
assert.equal(most, 3);
console.log(`${pages.length} pages, at most ${most} at once`);
