/*
 * Timeouts: reading the timeout argument, and one host timer for every pending deadline.
 *
 * Deadlines are absolute `Date.now()` times. All of them, from every event, lock and condition in this
 * thread, sit in one binary min-heap, and a single host timer is armed for the earliest. Waiters that
 * settle another way (set, abort) are not taken out of the heap, only marked (`timed = false`): that is
 * O(1), and a heap whose entries all settled is dropped whole, with its timer. Dead entries never
 * outnumber live ones by much: the heap is rebuilt when they do. Deadlines of equal timeouts arrive in
 * increasing order, so a push is O(1) in the common case.
 *
 * `setTimeout`, `clearTimeout` and `Date` are looked up at each use, never captured, so fake timers
 * installed after import drive the timeouts. A delay above 2^31-1 ms is armed in steps.
 */

/** A waiter with a deadline, as the heap sees it. */
export interface Timed {
  /** Absolute `Date.now()` time at which the waiter times out. */
  readonly deadline: number;
  /** True while the waiter counts on the timer; whoever sets it false must call {@link unschedule}. */
  timed: boolean;
  /** Called once when the deadline passes while `timed` is true (the heap has already cleared it). */
  expire(): void;
}

/** The longest delay `setTimeout` honours; above it, Node and browsers fire after 1 ms. */
const MAX_DELAY = 2 ** 31 - 1;

let heap: Timed[] = [];
let live = 0;
let handle: unknown;
let cancel: ((handle: never) => void) | undefined;
/** The clock time the armed host timer stands for (Infinity: none armed). */
let wakeAt = Infinity;

/**
 * Reads a timeout argument: a number of milliseconds, `Infinity` for none. Throws `TypeError` for a
 * non-number and `RangeError` for `NaN`, naming the argument.
 */
export function readTimeout(value: unknown, name: string): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number of milliseconds, got ${describe(value)}`);
  }
  if (value !== value) throw new RangeError(`${name} must be a number of milliseconds, got NaN`);
  return value;
}

/** A short, safe description of a bad argument, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return `string ${JSON.stringify(value.length > 20 ? value.slice(0, 20) + '…' : value)}`;
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    case 'object':
      return `${Object.prototype.toString.call(value).slice(8, -1)} object`;
    default:
      return typeof value;
  }
}

/** Starts counting down for `w`, whose `deadline` is finite. */
export function schedule(w: Timed): void {
  w.timed = true;
  live++;
  let i = heap.push(w) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]!.deadline <= w.deadline) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = w;
  if (w.deadline < wakeAt) arm(w.deadline);
}

/** Tells the heap that a waiter it holds settled another way (its `timed` was just set false). */
export function unschedule(): void {
  if (--live === 0) {
    heap = [];
    disarm();
  } else if (heap.length > 2 * live + 64) {
    heap = heap.filter((w) => w.timed);
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);
  }
}

function arm(deadline: number): void {
  disarm();
  const now = Date.now();
  const delay = Math.min(Math.max(deadline - now, 0), MAX_DELAY);
  wakeAt = now + delay;
  cancel = globalThis.clearTimeout as (handle: never) => void;
  handle = globalThis.setTimeout(fire, delay);
}

function disarm(): void {
  if (cancel !== undefined) cancel(handle as never);
  cancel = handle = undefined;
  wakeAt = Infinity;
}

function fire(): void {
  // A timer never fires before its time, even when the wall clock stepped back meanwhile.
  const now = Math.max(Date.now(), wakeAt);
  cancel = handle = undefined;
  wakeAt = Infinity;
  while (heap.length > 0) {
    const top = heap[0]!;
    if (top.timed && top.deadline > now) break;
    pop();
    if (top.timed) {
      top.timed = false;
      live--;
      top.expire();
    }
  }
  if (live === 0) heap = [];
  else if (heap[0]!.deadline < wakeAt) arm(heap[0]!.deadline);
}

function pop(): void {
  const last = heap.pop()!;
  if (heap.length > 0) {
    heap[0] = last;
    siftDown(0);
  }
}

function siftDown(i: number): void {
  const w = heap[i]!;
  const n = heap.length;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap[child + 1]!.deadline < heap[child]!.deadline) child++;
    if (heap[child]!.deadline >= w.deadline) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = w;
}
