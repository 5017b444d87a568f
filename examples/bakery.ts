/**
 * Producer/consumer: a baker fills a small shelf and two customers empty it. With a Condition every loaf
 * is sold; with an Event and clear(), a loaf baked between a customer's wait() and clear() goes unannounced;
 * with a Queue the shelf is the queue, and there is nothing left to get wrong.
 */
import { Condition, Event, Queue } from '../lib/index.js';

export async function withCondition(say: (line: string) => void): Promise<void> {
  const shelf: number[] = [];
  const cond = new Condition();
  const baker = async () => {
    for (let loaf = 1; loaf <= 6; loaf++) {
      await cond.acquire();
      try {
        await cond.waitFor(() => shelf.length < 2); // the shelf holds two loaves
        shelf.push(loaf);
        say(`Baker: loaf ${loaf} on the shelf (${shelf.length} there).`);
        cond.notifyAll();
      } finally {
        cond.release();
      }
    }
  };
  const customer = async (name: string) => {
    for (let bought = 0; bought < 3; bought++) {
      await cond.acquire();
      try {
        await cond.waitFor(() => shelf.length > 0);
        say(`${name}: buys loaf ${shelf.shift()}.`);
        cond.notifyAll();
      } finally {
        cond.release();
      }
    }
  };
  await Promise.all([baker(), customer('Ann'), customer('Bob')]);
  say('Every loaf sold, none twice.');
}

export async function withEvent(say: (line: string) => void): Promise<void> {
  const shelf: number[] = [];
  const baked = new Event();
  const customer = (async () => {
    while (await baked.wait(100)) {
      baked.clear(); // a loaf baked before this line is never announced
      say(`Ann: buys loaf ${shelf.shift()}.`);
    }
    say(`Ann: gives up after 100 ms of silence, with ${shelf.length} loaf still on the shelf.`);
  })();
  for (const loaf of [1, 2]) {
    shelf.push(loaf);
    say(`Baker: loaf ${loaf} on the shelf, sets the event.`);
    baked.set(); // the second set() finds the event still set: the wake-up is lost
  }
  await customer;
}

export async function withQueue(say: (line: string) => void): Promise<void> {
  const shelf = new Queue<number>(2); // the shelf holds two loaves: put() waits for room
  const baker = async () => {
    for (let loaf = 1; loaf <= 6; loaf++) {
      say(`Baker: loaf ${loaf} out of the oven.`);
      await shelf.put(loaf); // waits while two loaves are on the shelf
    }
    shelf.shutdown(); // no more loaves today: the customers take what is left, then go home
  };
  const customer = async (name: string) => {
    for await (const loaf of shelf) say(`${name}: buys loaf ${loaf}.`);
  };
  await Promise.all([baker(), customer('Ann'), customer('Bob')]);
  say('Every loaf sold, none twice, and the shop closed.');
}
