/**
 * Real `redis-server`s for the redis suite: each started on a free loopback port with no persistence
 * (`--save '' --appendonly no`) and stopped by the test that started it. A server can be paused and
 * resumed (SIGSTOP / SIGCONT), restarted empty on the same port (SHUTDOWN NOSAVE, then a new process),
 * and can drop its subscription connections (CLIENT KILL TYPE pubsub). A three-master Redis Cluster is
 * built the same way with `redis-cli --cluster create`. Admin commands go through `redis-cli`, so the
 * harness depends on neither client library under test.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
export const REDIS_CLI = process.env.REDIS_CLI ?? '/usr/bin/redis-cli';
export const HOST = '127.0.0.1';

export function redisInstalled(): boolean {
  return existsSync(REDIS_SERVER) && existsSync(REDIS_CLI);
}

/** A port nothing listens on right now (the OS picks it; `redis-server --port 0` would not listen at all). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs `redis-cli -p port args...` and resolves with its output (trimmed). */
export function cli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(REDIS_CLI, ['-h', HOST, '-p', String(port), ...args], (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli ${args.join(' ')}: ${error.message} ${stderr}`));
      else resolve(stdout.trim());
    });
  });
}

/** Polls `check` every 20 ms until it holds, for at most `within` ms (for server-side state no event reports). */
export async function eventually(check: () => Promise<boolean> | boolean, within: number, what: string) {
  const end = performance.now() + within;
  for (;;) {
    if (await check()) return;
    if (performance.now() > end) throw new Error(`not within ${within} ms: ${what}`);
    await sleep(20);
  }
}

export class RedisServer {
  private child!: ChildProcess;
  private exited!: Promise<void>;

  private constructor(
    readonly port: number,
    private readonly extra: string[],
  ) {}

  /** Starts a server on a free port, retrying with another port if the one picked was taken meanwhile. */
  static async start(extra: string[] = []): Promise<RedisServer> {
    for (let attempt = 0; ; attempt++) {
      const server = new RedisServer(await freePort(), extra);
      try {
        await server.launch();
        return server;
      } catch (error) {
        if (attempt >= 5) throw error;
      }
    }
  }

  /** Starts the process and resolves once it accepts connections; rejects if it exits first. */
  private launch(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      HOST,
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'no',
      '--daemonize',
      'no',
      ...this.extra,
    ];
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    return new Promise((resolve, reject) => {
      let output = '';
      const onData = (d: Buffer) => {
        output += d;
        if (output.includes('Ready to accept connections')) {
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (d) => (output += d));
      child.once('exit', (code, signal) =>
        reject(
          new Error(`redis-server on port ${this.port} exited (${code ?? signal}) before it was ready:\n${output}`),
        ),
      );
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  cli(...args: string[]): Promise<string> {
    return cli(this.port, ...args);
  }

  /** Stops the process (SIGKILL: nothing is saved anyway) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGSTOP: the server keeps its connections open and answers nothing. */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }

  /** SHUTDOWN NOSAVE; waits for the process to end. Every key is gone. */
  async shutdown(): Promise<void> {
    await this.cli('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    await this.exited;
  }

  /** Starts an empty server on the same port again (after {@link shutdown}). */
  async restart(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.launch();
        return;
      } catch (error) {
        // The port may linger a moment after the old process closed it.
        if (attempt >= 20) throw error;
        await sleep(50);
      }
    }
  }

  /** CLIENT KILL TYPE pubsub: drops every subscription connection; resolves with how many. */
  async killPubsub(): Promise<number> {
    return Number(await this.cli('CLIENT', 'KILL', 'TYPE', 'pubsub'));
  }

  /** Channels and patterns anybody is subscribed to now (plain, pattern and sharded). */
  async subscriptions(): Promise<string[]> {
    const channels = (await this.cli('PUBSUB', 'CHANNELS')).split('\n').filter(Boolean);
    const shard = (await this.cli('PUBSUB', 'SHARDCHANNELS')).split('\n').filter(Boolean);
    const patterns = Number(await this.cli('PUBSUB', 'NUMPAT'));
    return [...channels, ...shard, ...(patterns > 0 ? [`${patterns} pattern(s)`] : [])];
  }

  /** Connections in subscribe mode now. */
  async pubsubClients(): Promise<number> {
    return (await this.cli('CLIENT', 'LIST', 'TYPE', 'pubsub')).split('\n').filter(Boolean).length;
  }

  /** The addresses (ip:port) of the connections named `name` (CLIENT SETNAME). */
  async addresses(name: string): Promise<string[]> {
    const list = (await this.cli('CLIENT', 'LIST')).split('\n');
    return list.filter((l) => l.includes(` name=${name} `)).map((l) => /addr=(\S+)/.exec(l)![1]!);
  }

  /** Starts MONITOR: every command the server runs from now on, with the address of the connection that sent it. */
  async monitor(): Promise<Monitor> {
    const child = spawn(REDIS_CLI, ['-h', HOST, '-p', String(this.port), 'MONITOR'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const monitor: Monitor = {
      commands: [],
      stop: () => {
        child.kill();
        return new Promise((resolve) => (child.exitCode === null ? child.once('exit', () => resolve()) : resolve()));
      },
    };
    await new Promise<void>((resolve) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line === 'OK') return resolve();
        const m = /^\S+ \[\d+ ([^\]]+)\] "([^"]*)"/.exec(line);
        if (m !== null) monitor.commands.push({ addr: m[1]!, command: m[2]!.toLowerCase(), line });
      });
    });
    return monitor;
  }

  /** Every key with its PTTL in ms (-1: no expiry), read in one script. */
  async keys(): Promise<Map<string, number>> {
    const script =
      "local r = {} for _, k in ipairs(redis.call('KEYS', '*')) do r[#r + 1] = k r[#r + 1] = redis.call('PTTL', k) end return r";
    const lines = (await this.cli('--no-raw', 'EVAL', script, '0')).split('\n').filter(Boolean);
    const values = lines.map((l) =>
      l
        .replace(/^\s*\d+\) /, '')
        .replace(/^\(integer\) /, '')
        .replace(/^"|"$/g, ''),
    );
    const result = new Map<string, number>();
    for (let i = 0; i + 1 < values.length; i += 2) result.set(values[i]!, Number(values[i + 1]));
    return result;
  }
}

export interface Monitor {
  readonly commands: { addr: string; command: string; line: string }[];
  stop(): Promise<void>;
}

/** A local three-master Redis Cluster on free ports (no replicas), ready once cluster_state is ok. */
export class RedisCluster {
  private constructor(
    readonly nodes: RedisServer[],
    private readonly dir: string,
  ) {}

  get ports(): number[] {
    return this.nodes.map((n) => n.port);
  }

  static async start(): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'awaitable-event-cluster-'));
    const nodes: RedisServer[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const busPort = await freePort();
        nodes.push(
          await RedisServer.start([
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(busPort),
            '--cluster-config-file',
            join(dir, `nodes-${i}-${busPort}.conf`),
            '--cluster-node-timeout',
            '2000',
            '--dir',
            dir,
          ]),
        );
      }
      const cluster = new RedisCluster(nodes, dir);
      await cli(nodes[0]!.port, '--cluster', 'create', ...nodes.map((n) => `${HOST}:${n.port}`), '--cluster-yes');
      await eventually(
        async () => {
          for (const n of nodes) if (!(await n.cli('CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
          return true;
        },
        20_000,
        'cluster_state:ok on every node',
      );
      return cluster;
    } catch (error) {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Registers before/after hooks for one server shared by the tests of the enclosing describe(). */
export function useServer(): { readonly server: RedisServer } {
  const holder = {} as { server: RedisServer };
  before(async function () {
    this.timeout(20_000);
    holder.server = await RedisServer.start();
  });
  after(async () => {
    await holder.server?.stop();
  });
  return holder;
}
