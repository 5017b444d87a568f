/**
 * The measuring part of `npm run bench`: runs every contender of a case in turn (round-robin, so drift
 * hits all alike), several times after a warm-up, with a full GC before each run, and keeps the median
 * and the spread of each.
 */

export interface Contender {
  name: string;
  /** Runs the work once; returns how many units (waiters, operations, rounds) it did. */
  run(): Promise<number> | number;
}

export interface Measured {
  name: string;
  /** Median nanoseconds per unit. */
  ns: number;
  /** Fastest and slowest run, ns per unit. */
  min: number;
  max: number;
}

export interface Settings {
  /** Measured runs, at least; and more, until every contender has run `ms` in them. */
  runs: number;
  /** Warm-up runs, at least; and more, until every contender has run `ms` in them. */
  warmup: number;
  /**
   * A small case runs in well under a millisecond: a few warm-up runs would leave its code cold
   * (interpreted) when measured, the limit's too, and a few measured runs would each be one tick of the
   * machine's noise. Running each phase for a time instead measures optimized code, as a program that
   * runs all day runs it, over hundreds of samples.
   */
  ms?: number;
}

const gc: () => void =
  (globalThis as { gc?: () => void }).gc ??
  (() => {
    throw new Error('run the benchmarks with node --expose-gc (npm run bench does)');
  });

export async function measure(contenders: Contender[], { runs, warmup, ms = 0 }: Settings): Promise<Measured[]> {
  const samples = contenders.map(() => [] as number[]);
  const run = async (c: Contender) => {
    gc();
    const start = process.hrtime.bigint();
    const units = await c.run();
    return { ns: Number(process.hrtime.bigint() - start), units };
  };
  for (const measuring of [false, true]) {
    const spent = contenders.map(() => 0); // ms each contender has run in this phase
    const more = (i: number, r: number) => r < (measuring ? runs : warmup) || spent[i]! < ms;
    for (let r = 0; contenders.some((_, i) => more(i, r)); r++) {
      for (const [i, c] of contenders.entries()) {
        if (!more(i, r)) continue; // done: the others go on in turn
        const { ns, units } = await run(c);
        spent[i]! += ns / 1e6;
        if (measuring) samples[i]!.push(ns / units);
      }
    }
  }
  return contenders.map((c, i) => {
    const s = samples[i]!.sort((a, b) => a - b);
    return { name: c.name, ns: median(s), min: s[0]!, max: s.at(-1)! };
  });
}

export function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/**
 * Heap bytes held per item by `make(n)`'s result, measured after full GCs: the second of two rounds, so
 * that one-time costs (hidden classes, tables growing) are left out.
 */
export async function heapPerItem(
  n: number,
  make: (n: number) => unknown,
  release: () => Promise<void>,
): Promise<number> {
  await heapRound(n, make, release);
  return heapRound(n, make, release);
}

const holder: { kept?: unknown } = {};

async function heapRound(n: number, make: (n: number) => unknown, release: () => Promise<void>): Promise<number> {
  // Let what earlier cases left behind (timers, signals' weak callbacks) go first: a few turns and GCs.
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  gc();
  const before = process.memoryUsage().heapUsed;
  holder.kept = make(n); // held where the optimizer cannot see it die before the measurement
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  await release();
  holder.kept = undefined;
  return (after - before) / n;
}
