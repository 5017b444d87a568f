/**
 * The package as a user gets it, made once for the package suite: a fresh clone of this repository (its
 * tracked files as they are in the work tree), `npm ci`, `npm pack` (which builds through `prepack`), and
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

let scratch: string | undefined;
let made: Promise<Packed> | undefined;

/** The packed and installed package (made on first call). */
export function packed(): Promise<Packed> {
  made ??= Promise.resolve().then(() => {
    scratch = mkdtempSync(join(tmpdir(), 'awaitable-event-package-'));
    const repo = join(scratch, 'repo');
    // `git stash create` records the tracked files as they are in the work tree (nothing when unchanged).
    const commit = run('git', ['stash', 'create'], root).trim() || 'HEAD';
    run('git', ['clone', '--quiet', '--no-checkout', root, repo], scratch);
    run('git', ['checkout', '--quiet', commit], repo);
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
