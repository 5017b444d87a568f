/**
 * Other processes of the fleet, for the tests that need more than one: a script from spec/redis/fleet/
 * run with `node --import tsx`, told what to do with JSON lines on its stdin and answering with JSON lines
 * on its stdout. {@link Member.request} sends a command and resolves with the first answer carrying its id;
 * {@link Member.next} resolves with the first line (already seen or still to come) a predicate accepts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { ClientKind } from './clients.js';

const root = resolve(import.meta.dirname, '../..');

export type Message = Record<string, unknown> & { id?: number; event?: string };

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Member {
  readonly lines: Message[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<Exit>;
  private readonly watchers = new Set<{ match: (m: Message) => boolean; resolve: (m: Message) => void }>();
  private nextId = 1;

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let message: Message;
      try {
        message = JSON.parse(line) as Message;
      } catch {
        message = { event: 'output', line };
      }
      this.lines.push(message);
      for (const w of this.watchers) {
        if (w.match(message)) {
          this.watchers.delete(w);
          w.resolve(message);
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => this.stderr.push(String(d)));
    this.exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The first line `match` accepts, from those seen so far or the next ones; rejects if the process ends first. */
  next(match: (m: Message) => boolean, what = 'a matching line'): Promise<Message> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.watchers.add({ match, resolve });
      void this.exited.then((exit) =>
        reject(
          new Error(
            `process ${this.pid} ended (${exit.code ?? exit.signal}) before ${what}; it wrote:\n` +
              `${this.lines.map((l) => JSON.stringify(l)).join('\n')}\n${this.stderr.join('')}`,
          ),
        ),
      );
    });
  }

  /** Waits for the first line with `event`. */
  event(event: string, extra: (m: Message) => boolean = () => true): Promise<Message> {
    return this.next((m) => m.event === event && extra(m), `event ${event}`);
  }

  /** Sends a command without waiting; returns its id. */
  send(command: Record<string, unknown>): number {
    const id = this.nextId++;
    this.child.stdin!.write(`${JSON.stringify({ id, ...command })}\n`);
    return id;
  }

  /** The first answer to command `id` (or to a command sent now). */
  answer(id: number): Promise<Message> {
    return this.next((m) => m.id === id && m.event === undefined, `an answer to command ${id}`);
  }

  request(command: Record<string, unknown>): Promise<Message> {
    return this.answer(this.send(command));
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Closes stdin: the member ends its work, closes its client and should then exit by itself. */
  end(): void {
    this.child.stdin!.end();
  }

  /** Waits at most `within` ms for the process to exit by itself; kills it and rejects if it does not. */
  async exitsWithin(within: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), within)));
    const result = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (result === 'late') {
      this.kill('SIGKILL');
      throw new Error(
        `process ${this.pid} did not exit by itself within ${within} ms; stderr: ${this.stderr.join('')}`,
      );
    }
    return result;
  }
}

export interface Target {
  kind: ClientKind;
  /** A server's (or proxy's) port... */
  port?: number;
  /** ...or the ports of a cluster's nodes. */
  cluster?: number[];
}

/** Starts spec/redis/fleet/<script>.ts with the target in its environment; resolves once it says `ready`. */
export async function startMember(script: string, target: Target, env: Record<string, string> = {}): Promise<Member> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'spec/redis/fleet', `${script}.ts`)], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      REDIS_KIND: target.kind,
      ...(target.port === undefined ? {} : { REDIS_PORT: String(target.port) }),
      ...(target.cluster === undefined ? {} : { REDIS_CLUSTER: target.cluster.join(',') }),
      ...env,
    },
  });
  const member = new Member(child);
  await member.event('ready');
  return member;
}

/** Kills whatever members are still running (for after() hooks). */
export async function killAll(members: Iterable<Member>): Promise<void> {
  for (const m of members) {
    if (m.child.exitCode === null && m.child.signalCode === null) {
      m.kill('SIGCONT');
      m.kill('SIGKILL');
    }
  }
  await Promise.all([...members].map((m) => m.exited));
}

/** `promise`, or a rejection naming `what` if it has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
