/**
 * The package suite packs the work tree as it is (packed.ts, snapshot()): whatever npm install or an editor
 * did to the files' timestamps, with the changes not yet committed, and without touching the repository's
 * index or stash.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, snapshot } from './packed.js';

describe('snapshot() of a work tree', () => {
  let scratch: string;
  let count = 0;

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'awaitable-event-snapshot-'));
  });

  after(() => rmSync(scratch, { recursive: true, force: true }));

  /** A repository with a.txt, b.txt and .gitignore committed, changed by `change`, then its snapshot. */
  function snapshotAfter(change: (repo: string) => void) {
    const repo = join(scratch, `repo${++count}`);
    const copy = join(scratch, `copy${count}`);
    const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], repo);
    run('git', ['init', '--quiet', repo], scratch);
    writeFileSync(join(repo, 'a.txt'), 'a\n');
    writeFileSync(join(repo, 'b.txt'), 'b\n');
    writeFileSync(join(repo, '.gitignore'), 'ignored.txt\n');
    git('add', '.');
    git('commit', '--quiet', '-m', 'first');
    change(repo);
    // `git status` would refresh the index (as a user's next one does, hiding a stale timestamp): this does not.
    const status = () => git('--no-optional-locks', 'status', '--porcelain');
    const before = status();
    snapshot(repo, copy);
    return {
      read: (file: string) => (existsSync(join(copy, file)) ? readFileSync(join(copy, file), 'utf8') : 'absent'),
      unchanged: status() === before && git('stash', 'list') === '',
    };
  }

  it('a tracked file rewritten with the same content (as npm install does to package-lock.json) is copied as committed', () => {
    const { read, unchanged } = snapshotAfter((repo) => {
      writeFileSync(join(repo, 'a.txt'), 'a\n');
      utimesSync(join(repo, 'a.txt'), new Date(), new Date(Date.now() + 60_000));
    });
    expect([read('a.txt'), read('b.txt'), unchanged]).to.deep.equal(['a\n', 'b\n', true]);
  });

  it('a tracked file changed and not committed is copied with its change; one deleted is not copied', () => {
    const { read, unchanged } = snapshotAfter((repo) => {
      writeFileSync(join(repo, 'a.txt'), 'a, changed\n');
      unlinkSync(join(repo, 'b.txt'));
    });
    expect([read('a.txt'), read('b.txt'), unchanged]).to.deep.equal(['a, changed\n', 'absent', true]);
  });

  it('an untracked file is copied, as the next `git add -A` would take it; an ignored one is not', () => {
    const { read, unchanged } = snapshotAfter((repo) => {
      writeFileSync(join(repo, 'new.txt'), 'not yet added\n');
      writeFileSync(join(repo, 'ignored.txt'), 'ignored\n');
    });
    expect([read('new.txt'), read('ignored.txt'), read('a.txt'), unchanged]).to.deep.equal([
      'not yet added\n',
      'absent',
      'a\n',
      true,
    ]);
  });
});
