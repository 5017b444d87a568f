// Races between threads, played on one thread: several lock or condition objects over one buffer are
// different threads (each has its own seat and local queue), and another thread's step is made to land
// between two steps of this one by running it just before (or after) one `Atomics` call of this thread.
import * as sinon from 'sinon';

type Op = 'load' | 'store' | 'add' | 'compareExchange' | 'notify' | 'wait' | 'waitAsync';

/** One `Atomics` call: its typed array and word index, then the rest of its arguments. */
export type Call = [array: Int32Array, index: number, ...rest: number[]];

interface Rule {
  readonly when: (call: Call) => boolean;
  readonly step: (real: () => unknown, call: Call) => unknown;
  fired: boolean;
}

const rules = new Map<Op, Rule[]>();

/**
 * The first call of `Atomics[op]` from now on for which `when` holds runs `step` instead, once: `step`
 * calls `real()` to make the call itself, and returns what the call returns. Undone by {@link noRaces}.
 */
export function at(
  op: Op,
  when: (...call: Call) => boolean,
  step: (real: () => unknown, call: Call) => unknown,
): {
  fired: boolean;
} {
  let list = rules.get(op);
  if (list === undefined) {
    const real = (Atomics as unknown as Record<Op, (...args: unknown[]) => unknown>)[op].bind(Atomics);
    const mine: Rule[] = (list = []);
    rules.set(op, mine);
    sinon.stub(Atomics, op).callsFake(((...call: Call) => {
      const rule = mine.find((r) => !r.fired && r.when(call));
      if (rule === undefined) return real(...call);
      rule.fired = true;
      return rule.step(() => real(...call), call);
    }) as never);
  }
  const rule: Rule = { when: (call) => when(...call), step, fired: false };
  list.push(rule);
  return rule;
}

/** Removes every rule and stub of {@link at}. */
export function noRaces(): void {
  for (const op of rules.keys()) (Atomics[op] as unknown as sinon.SinonStub).restore();
  rules.clear();
}

/** The words of a shared lock or condition's buffer, as the library indexes them. */
export function wordsOf(x: { buffer: SharedArrayBuffer }): Int32Array {
  return new Int32Array(x.buffer);
}

/** Whether an `Atomics` call is on the words of `x`'s buffer, at word `index`. */
export function on(x: { buffer: SharedArrayBuffer }, array: Int32Array, index: number, at: number): boolean {
  return array.buffer === x.buffer && index === at;
}
