/**
 * Two more scenes: readers and an editor sharing a book (ReadWriteLock): readers read together, the
 * editor waits for them and has the book alone, and a reader who comes after the editor waits for the
 * new edition; then a launch that waits for three checks (CountdownLatch).
 */
import { CountdownLatch, ReadWriteLock } from '../lib/index.js';

/** One turn of the event loop: a moment of work. */
const moment = () => new Promise<void>((resolve) => setImmediate(resolve));
const moments = async (n: number) => {
  for (let i = 0; i < n; i++) await moment();
};

export async function readingRoom(say: (line: string) => void): Promise<void> {
  const book = new ReadWriteLock();
  let edition = 1;
  const reader = async (name: string, arrives: number, reads: number) => {
    await moments(arrives);
    say(`${name} asks for the book.`);
    using _ = await book.readLock();
    say(`${name} reads edition ${edition} (${book.readers} reading).`);
    await moments(reads);
    say(`${name} is done reading.`);
  };
  const editor = async () => {
    await moments(2);
    say('Editor asks for the book, to revise it.');
    using _ = await book.writeLock();
    say(`Editor has the book alone (${book.readers} reading) and revises it.`);
    await moments(2);
    edition++;
    say(`Editor is done: edition ${edition}.`);
  };
  await Promise.all([reader('Ann', 0, 6), reader('Bob', 1, 6), editor(), reader('Cid', 3, 1)]);
  say('Cid came after the editor, so he waited for the new edition.');
}

export async function launch(say: (line: string) => void): Promise<void> {
  const checks = ['fuel', 'weather', 'crew'];
  const ready = new CountdownLatch(checks.length);
  const control = (async () => {
    say(`Control: waiting for ${ready.count} checks.`);
    await ready.wait();
    say('Control: every check done. Launch!');
  })();
  await Promise.all(
    checks.map(async (check, i) => {
      await moments(1 + i * 2);
      ready.countDown();
      say(`Check ${check}: done (${ready.count} to go).`);
    }),
  );
  await control;
}
