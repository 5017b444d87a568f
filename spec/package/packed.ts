/**
 * The package as a user gets it, made once for the package suite: a copy of this repository's files as
 * they are in the work tree (snapshot()), `npm ci`, `npm pack` (which builds through `prepack`), and
 * the tarball installed into a scratch project. Removed when the suite ends.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

export interface Packed {
  /** The scratch project, with the tarball installed. */
  app: string;
  /** The installed package, in the scratch project's node_modules. */
  pkg: string;
  /** The tarball's files, as `npm pack` lists them. */
  files: string[];
  tarball: string;
}

/** Runs a command; on failure, throws with everything it printed. */
export function run(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): string {
  try {
    return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`, { cause: error });
  }
}

/**
 * Writes into `dest` (a new folder) the files of the git work tree at `from` as they are now: what the next
 * `git add -A && git commit` there would record (tracked files as they are, deleted ones gone, untracked ones
 * that .gitignore does not exclude). The files are staged in a throwaway index, so the repository's own index
 * and stash are left alone, and a file whose timestamp changed but not its content (npm install rewrites
 * package-lock.json so) is no different from any other: `git stash create` exited 1 without a word there.
 */
export function snapshot(from: string, dest: string): void {
  const tmp = mkdtempSync(join(tmpdir(), 'awaitable-event-snapshot-'));
  try {
    const env = { ...process.env, GIT_INDEX_FILE: join(tmp, 'index') };
    run('git', ['read-tree', 'HEAD'], from, env);
    run('git', ['add', '--all', '--', ':/'], from, env);
    const tree = run('git', ['write-tree'], from, env).trim();
    run('git', ['archive', '--format=tar', '--output', join(tmp, 'tree.tar'), tree], from);
    mkdirSync(dest);
    run('tar', ['-xf', join(tmp, 'tree.tar'), '-C', dest], from);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

let scratch: string | undefined;
let made: Promise<Packed> | undefined;

/** The packed and installed package (made on first call). */
export function packed(): Promise<Packed> {
  made ??= Promise.resolve().then(() => {
    scratch = mkdtempSync(join(tmpdir(), 'awaitable-event-package-'));
    const repo = join(scratch, 'repo');
    snapshot(root, repo);
    run('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], repo);
    const [pack] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', scratch], repo)) as {
      filename: string;
      files: { path: string }[];
    }[];
    const tarball = join(scratch, pack!.filename);
    const app = join(scratch, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    run('npm', ['install', '--no-audit', '--no-fund', '--offline', tarball], app);
    return { app, pkg: join(app, 'node_modules', 'awaitable-event'), files: pack!.files.map((f) => f.path), tarball };
  });
  return made;
}

after(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});
