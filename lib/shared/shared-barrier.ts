/*
 * SharedBarrier: one barrier, met by the tasks of every thread that maps its words of shared memory.
 *
 * # The words (SharedBarrier.BYTES = 276)
 *
 *     parties   how many tasks meet each round: written once, by the constructor that finds the memory
 *               fresh (its kind word 0: see memory.ts), before any other thread may use it, and only
 *               read after; an object built over memory that holds a barrier already checks it has the
 *               same parties, and resets nothing
 *     state     bits 0..15: COUNT, the tasks arrived in the current round
 *               bits 16..18: how the last round ended: PASSED, or the reason it broke (a waiter timed
 *               out or was aborted, abort() or reset() was called, a waiting thread was terminated);
 *               the barrier is broken while that reason is not PASSED or RESET
 *               bits 19..31: the round's number, modulo 8192
 *     seat k    (32 words) state bits 0..2 (seats.ts: FREE, RESERVED, WAITING, POLLING, TOLD, DEAD),
 *               how its round ended (bits 3..5, once TOLD), its round's number (bits 6..18)
 *     hall      how many threads without a seat are in line
 *     bell      rung (one more, and every waiter on it notified) by the ender of a round that found
 *               anyone in the hall
 *     log       (32 words) the record of round r at r modulo 32: bit 0 set (a word never written is 0),
 *               how it ended (bits 1..3), its number (bits 4..16); written by the ender of round r when
 *               it found anyone in the hall
 *     kind      says the memory holds a SharedBarrier (memory.ts)
 *
 * A thread (more exactly, one barrier object of a thread) whose tasks wait in a round is in line for
 * that round: in a seat, or, when all 32 are taken, in the hall. Its local queue of waiters stands
 * behind it, each with its arrival index.
 *
 * # Who writes what
 *
 * - Arrival: a task reads the state word. Broken: it is refused at once. Last of its round: it ends the
 *   round, PASSED (a compare-exchange to COUNT 0, the next number), and tells the round's threads.
 *   Otherwise its thread makes sure it is IN LINE FOR THAT ROUND FIRST: its seat published (a seat FREE
 *   or DEAD → RESERVED, the engine waiter registered on it, then WAITING(round)), or, every seat taken,
 *   counted in the hall (hall + 1). Only then does it count the task in (state → state + 1, a
 *   compare-exchange: the task's index is the COUNT it replaced). A thread that cannot count in because
 *   the round ended meanwhile looks again, in line for the new round (it leaves the hall or its seat
 *   first).
 * - Ending a round (the last arrival; a waiter that times out or is aborted while its round is open;
 *   abort(); reset()): one compare-exchange of the state word from the round's value to the next
 *   round's, COUNT 0, with how it ended. Exactly one ender per round. Then the ender TELLS: if the hall
 *   is not empty, it writes the round's record in the log (a compare-exchange over an older round's
 *   record, never over a newer one's) and rings the bell; then it looks at every
 *   seat, and writes each one WAITING or POLLING for that round TOLD(how) (a compare-exchange), then
 *   notifies it; a seat still WAITING or POLLING for the round before, it tells how that one ended (the
 *   state word it ended its round from says so), and one for a round 32 or more before, that its
 *   outcome was lost (see the last section). Its own thread's waiters of the round it releases at once.
 * - The owner of a seat, woken (or polling, or about to answer a deadline), finds its seat TOLD: it
 *   claims it (TOLD → RESERVED), releases its queue (the index each task arrived with, or a
 *   BrokenBarrierError with the reason), notifies its own engine waiter away, and frees the seat.
 * - A thread in the hall, once its task counted in, and again when woken by the bell (or polling, or
 *   about to answer a deadline), reads the bell, then the state word: its round still open, it waits for
 *   the bell to move from the value it read (an engine waiter, if it has none pending). Its round
 *   over, it reads the round's place in the log: its round's record, it releases its queue as
 *   above and leaves the hall (hall - 1); an older round's record or none, the ender has not written it
 *   yet, and it waits for the bell again; a newer round's record (its thread looked only after 32 more
 *   rounds ended: see the last section), its tasks reject with a BrokenBarrierError saying how their
 *   round ended was lost (the barrier itself is not broken by that).
 *
 * # Why no round or wake-up is lost
 *
 * A thread gets in line for a round before it counts a task in, and an ender tells after its
 * compare-exchange, which comes after every arrival of its round: so the ender of a round sees every
 * seat of that round, and a hall that is not empty when anyone waits there in that round (a thread
 * stays counted in the hall until it has read its round's record, which comes after). The owner's
 * engine waiter is registered before it publishes, and registered again before it publishes again after
 * a seat was told (the ender's notify may have taken it): a published, live thread always has an engine
 * waiter (or a blocking `Atomics.wait`) on its seat. In the hall, a thread reads the bell before it
 * looks, and waits only while the bell still holds what it read: a ring after the look (the record
 * comes before the ring) makes the wait return at once. The bell wakes every waiter on it: a thread in
 * the hall whose round it was not looks, and waits again. A thread's tasks wait in one round per group
 * (a seat or a place in the hall): a task arriving while its thread's group waits to learn about a round
 * that ended gets in line for the new round, and the old group is settled as soon as its thread learns
 * how its round ended: from the seat once told, at once from the state word when only that round has
 * ended since (a seat), or from the log (the hall).
 *
 * # Giving up breaks the round
 *
 * A waiter that times out or is aborted while its round is open ends the round (its reason) and tells
 * everyone: every waiter of the round rejects with a BrokenBarrierError (the aborted one with its
 * signal's reason) and the barrier stays broken until reset(). A waiter whose round already ended
 * reports how it ended: a deadline or an abort that comes after the end of its round changes nothing,
 * even when the news is still on its way to its thread (it is waited for: the ender is telling).
 * `wait(0)` by a task that is not the last of its round breaks it at once.
 *
 * # A thread terminated while it waits
 *
 * A terminated thread's engine waiters go with it: an ender whose notify of a WAITING seat wakes nobody,
 * and whose owner does not show itself live within 31 ms after (it claims the seat, or a new notify wakes
 * an engine waiter there: a live owner whose waiter a late notify took registers another as soon as its
 * event loop runs), takes the seat for gone (TOLD → DEAD, a compare-exchange that also decides against
 * the owner's claim). On a page's main thread, which may not block, the ender cannot wait those 31 ms.
 * It is found when its round ends: if that round was completed (PASSED), its other waiters go on with
 * their indexes and the ender then breaks the barrier (the reason: a waiting thread was terminated), so
 * the next round, which the gone thread will never reach, rejects at once instead of waiting for ever.
 * A thread found gone in a round that broke or was reset changes nothing more. A live thread is taken
 * for gone only if it was between two engine waiters for all of those 31 ms (a busy or descheduled
 * thread), or at once when the ender is a page's main thread: its waiters still report how their round
 * ended when they find their seat DEAD, or a BrokenBarrierError if another thread has taken the seat
 * since, and the barrier breaks. In Node the engine drops a terminated worker's waiters 0.3-2 ms after
 * `terminate()`; a round completed before that counts the worker as there, and the seat its ender told
 * (the notify woke the waiter the engine still had) stays TOLD: a thread that finds every seat taken
 * frees it for anyone (TOLD → DEAD, how its round ended kept) once it has seen it the very same at each
 * of its looks for STALE ms (1 s, seats.ts). A live thread that leaves its told seat unclaimed that long
 * (busy or descheduled) learns how its round ended from the DEAD seat, or, if another thread has taken
 * the seat since, its tasks reject as those of a thread taken for gone do. A worker terminated while it
 * is not at the barrier is not noticed: call abort() on its behalf.
 *
 * A thread terminated while it waits in the hall, or polls its seat, is not found: the bell wakes every
 * waiter on it, so no count tells who is gone. Its round completes counting its tasks in, and the next
 * round, which it will never reach, waits for it as for a worker terminated away from the barrier (a
 * timed wait breaks it; or call abort() on its behalf). It stays counted in the hall: every later ender
 * then writes a record and rings the bell (three more atomic operations a round; nothing else changes).
 *
 * # Seats, the hall, blocking, polling, lifetime
 *
 * - 32 seats: the first 32 threads (barrier objects) in line at once take them; any more wait in the
 *   hall, as many as come. A seat's thread is told on its own word; the hall's are woken together.
 * - waitSync arrives the same way and blocks in `Atomics.wait`: on its seat word (counted by the ender's
 *   notify, so a thread terminated while blocked is found too), or in the hall on the bell, from the
 *   value read before its look; refused where blocking is not allowed.
 * - Without `Atomics.waitAsync`, a thread polls its seat (1 ms, doubling to 32 ms; the seat POLLING), or
 *   in the hall, the state word and the log, as often: notifies then prove nothing, so a thread
 *   terminated while it polls is not found.
 * - A Node worker with a pending wait() stays alive until it settles; none after. A settled wait leaves
 *   no timer or listener, and no engine waiter: its seat's it notifies away. In the hall, it registers
 *   one only after a look found its round open, from the bell as it was before that look: the ring of its
 *   round's ender comes after the look, and after the record the thread settles by (at once, when its own
 *   thread ended the round): that ring, or a later one, wakes it.
 * - A thread terminated in the middle of ending a round (between its compare-exchange and its notifies,
 *   or its ring: not only microseconds, for a notify that wakes nobody is checked again for up to 31 ms)
 *   leaves the seats it did not tell in line for that round, and their threads waiting until the next
 *   round ends: its ender tells them (they are in line for the round before its own); should it be
 *   terminated as it tells too, the ender of a round 32 or more later tells them their outcome was lost.
 *   Where every thread waits for its round's news before it arrives again, the next round cannot end:
 *   they wait as under a lock left held. No seat stays in line for a round that ended, so no ender of
 *   a round with the same number, 8192 rounds later, takes one for its own (and its thread for gone).
 *   An ender held up there while 32 more rounds ended finds a newer record in its round's place, and
 *   leaves it: the hall's threads of its round reject (lost), as below.
 * - The log holds the last 32 rounds that ended while anyone was in the hall. A thread in the hall that
 *   looks only after 32 more rounds ended finds its round's record replaced: its tasks reject (how their
 *   round ended was lost), whatever it was. That takes its event loop not running (busy, descheduled)
 *   while the others complete 32 rounds without it, or reset() is called 32 times: where every thread
 *   has a task in each round, as in a pool meeting at `parties` = its size, the round after its own
 *   cannot complete before it looks, so it is never more than one round (and the resets since) behind.
 * - Rounds are told apart modulo 8192: a thread would need to stay 8192 rounds behind to mistake one (in
 *   the hall, 4096: it would take the record in its round's place for an older one, and wait for the
 *   next there).
 */
import { isAborted, reasonOf } from '../core/abort.js';
import { type WaitOptions, readCount, readTimeout, readWaitArg } from '../core/arguments.js';
import { monotonic } from '../core/clock.js';
import { inspectable } from '../core/inspect.js';
import { enqueue } from '../core/park.js';
import {
  type Resolve,
  TRUE,
  Waiter,
  WaiterQueue,
  capture,
  forgetCaptured,
  lastReject,
  lastResolve,
} from '../core/queue.js';
import { BrokenBarrierError } from '../errors.js';
import { BARRIER, arrived, sharedMemory } from './memory.js';
import {
  DEAD,
  FREE,
  GRANTED as TOLD,
  POLLING,
  POLL_MAX,
  RESERVED,
  SEATS,
  STATE,
  WAITING,
  Watch,
  canWaitAsync,
  sleep,
  takeSeat,
  pollAfter,
} from './seats.js';
import { assertMayBlock, holdThread, lookBeforeDeadlines, mayBlock, releaseThread } from './word.js';

/**
 * Words after the state word: the SEATS (32) seats, then the hall, the bell and the log. Literals, so
 * that bundlers see no side effect (as BYTES).
 */
const HALL = 33;
const BELL = 34;
const LOG = 35;
/** Records in the log: one per round, at its number modulo LOG_SIZE (a power of 2). */
const LOG_SIZE = 32;
/** The state word: COUNT in bits 0..15, how the last round ended in 16..18, the round in 19..31. */
const COUNT = 0xffff;
const ROUNDS = 0x1fff;
/** The most parties: COUNT holds up to parties - 1. */
const MAX_PARTIES = 65_535;

/** How a round ended. */
const PASSED = 0;
const TIMED_OUT = 1;
const ABORTED = 2;
const ABORT_CALLED = 3;
const RESET = 4;
const TERMINATED = 5;
/** Never written: what a seatless thread concludes when the log has no record of its round left. */
const LOST = 6;
const WHY = [
  '',
  'a waiter timed out',
  'a waiter was aborted',
  'abort() was called',
  'reset() was called',
  'a waiting thread was terminated',
  'how its round ended was lost: its thread fell 32 rounds behind, or the thread ending it was terminated as it told', // LOG_SIZE
];

const roundOf = (state: number) => state >>> 19;
const endOf = (state: number) => (state >>> 16) & 7;
/** Whether a barrier whose last round ended so is broken. */
const breaks = (how: number) => how !== PASSED && how !== RESET;
/** The state word once round `round` ended so: the next round, nobody arrived. */
const ended = (round: number, how: number) => (((round + 1) & ROUNDS) << 19) | (how << 16);
/** A seat word: its state, how its round ended (once told), its round. */
const seatWord = (state: number, how: number, round: number) => (round << 6) | (how << 3) | state;
/** A record of the log: its round, how it ended, and bit 0 set (a word never written is 0). */
const record = (round: number, how: number) => (round << 4) | (how << 1) | 1;

/** What one barrier object shares with the groups of its thread: the words, and its current group. */
interface Core {
  readonly words: Int32Array;
  /** Index of the state word; the seats follow it. */
  readonly at: number;
  /** The group in line for the round this object last counted a task in. */
  group: Group | undefined;
  /** What this object saw of each seat when it found every seat taken (see {@link bury}). */
  watch: Watch | undefined;
}

/** One round's record, for its waiters: why it broke, once it has (undefined: it passed). */
interface Round {
  why: string | undefined;
}

/** Ends the round the state word `state` stands for, with `how`: true when this call ended it. */
function close(core: Core, state: number, how: number): boolean {
  return Atomics.compareExchange(core.words, core.at, state, ended(roundOf(state), how)) === state;
}

/**
 * Tells how `round` (which this thread just ended) ended: to the hall, if anyone is there (the log, then
 * the bell), to every seat in line for it, and to this object's own group at once. A thread found gone
 * in a round that passed breaks the barrier. `before` is how the round before ended (the state word this
 * thread ended `round` from said so): a seat still in line for that round, which its ender did not tell,
 * is told now; one in line for a round 32 or more rounds before, that its round's outcome was lost.
 */
function tell(core: Core, round: number, how: number, before: number): void {
  const words = core.words;
  const own = core.group;
  if (Atomics.load(words, core.at + HALL) !== 0) {
    // Seatless threads wait in the hall: the record first, then the bell (every one of them wakes).
    log(core, round, how);
    Atomics.add(words, core.at + BELL, 1);
    Atomics.notify(words, core.at + BELL);
  }
  let gone = false;
  for (let i = 0, at = core.at + 1; i < SEATS; i++, at++) {
    const v = Atomics.load(words, at);
    const state = v & STATE;
    if ((state !== WAITING && state !== POLLING) || at === own?.seat) continue;
    if (v >>> 6 !== round) {
      untold(words, at, v, round, before);
      continue;
    }
    const told = seatWord(TOLD, how, round);
    // A polling seat's thread may be blocked in waitSync: notify it too, but waking nobody proves nothing.
    if (
      Atomics.compareExchange(words, at, v, told) === v &&
      Atomics.notify(words, at) === 0 &&
      state === WAITING &&
      !answers(words, at, told) &&
      Atomics.compareExchange(words, at, told, seatWord(DEAD, how, round)) === told
    ) {
      gone = true;
    }
  }
  if (own?.published === true && own.round === round) own.finish(how);
  if (gone && how === PASSED) {
    for (;;) {
      const state = Atomics.load(words, core.at);
      if (close(core, state, TERMINATED)) return tell(core, roundOf(state), TERMINATED, endOf(state));
    }
  }
}

/**
 * A seat in line for another round than `round`, which this thread just ended, the round before having
 * ended `before`. In line for the round before: its ender has not told it yet, or never will (it was
 * terminated as it told, its notifies undone): told now, how that round ended (a compare-exchange, so
 * told once). In line for a round 32 to 4095 rounds before: told that how its round ended was lost, as a
 * thread in the hall is once the log has no record of its round left. Otherwise (2 to 31 rounds before,
 * its ender still telling; or a newer round) it is left as it is. A seat told so whose thread is gone
 * stays TOLD until a thread that finds every seat taken frees it (bury): nobody breaks the barrier for
 * it, and no ender of a round with the same number, 8192 rounds later, mistakes it for a seat of its own.
 */
function untold(words: Int32Array, at: number, v: number, round: number, before: number): void {
  const r = v >>> 6;
  const behind = (round - r) & ROUNDS;
  const how = behind === 1 ? before : behind >= LOG_SIZE && behind < (ROUNDS + 1) / 2 ? LOST : -1;
  if (how >= 0 && Atomics.compareExchange(words, at, v, seatWord(TOLD, how, r)) === v) Atomics.notify(words, at);
}

/**
 * Writes how `round` ended in its place in the log, over an older round's record, but not over a newer
 * one: there when this thread was held up between ending its round and logging it for 32 rounds or more.
 */
function log(core: Core, round: number, how: number): void {
  const words = core.words;
  const at = core.at + LOG + (round & (LOG_SIZE - 1));
  for (;;) {
    const r = Atomics.load(words, at);
    // A newer round's record: 1 to 4095 rounds after this one (modulo 8192).
    if ((r & 1) === 1 && (((r >>> 4) - round - 1) & ROUNDS) < (ROUNDS + 1) / 2 - 1) return;
    if (Atomics.compareExchange(words, at, r, record(round, how)) === r) return;
  }
}

/**
 * Every seat is taken: frees, for anyone, the seats that showed the very same TOLD word at each of this
 * object's looks for STALE ms (seats.ts), TOLD → DEAD with its round and how it ended: their thread was
 * told, and terminated before it claimed (the notify that told it woke an engine waiter the engine had
 * not dropped yet). True when it freed one. A seat seen in any other state is forgotten, so that a TOLD
 * word that comes back 8192 rounds later is not taken for the one seen before.
 */
function bury(core: Core): boolean {
  const words = core.words;
  const watch = (core.watch ??= new Watch());
  const now = watch.now();
  let freed = false;
  for (let i = 0, at = core.at + 1; i < SEATS; i++, at++) {
    const v = Atomics.load(words, at);
    if ((v & STATE) !== TOLD) watch.forget(i);
    else if (watch.stale(i, v, 0, now)) {
      if (Atomics.compareExchange(words, at, v, (v & ~STATE) | DEAD) === v) freed = true;
      watch.forget(i);
    }
  }
  return freed;
}

/**
 * A notify of a told seat woke nobody: its thread is gone, or it is live and between two engine waiters
 * (a late notify of an earlier round took the one it had; it registers another as soon as its event loop
 * runs). Where this thread may block, it gives the owner 31 ms (1, 2, 4, 8, 16) to show it is live: by
 * claiming the seat, or with an engine waiter a new notify wakes. On a page's main thread it cannot wait.
 */
function answers(words: Int32Array, at: number, told: number): boolean {
  for (let ms = 1; ms <= 16 && mayBlock(); ms *= 2) {
    sleep(ms);
    if (Atomics.load(words, at) !== told || Atomics.notify(words, at) > 0) return true;
  }
  return false;
}

/**
 * The tasks of one barrier object of this thread that wait in one round, behind one seat (what the
 * ender of the round tells) or, when every seat is taken, in the hall (the ender logs how the round
 * ended and rings the bell). A group settles once, when it learns how its round ended.
 */
class Group {
  /** Word index of the seat, or -1 (none yet, none left, or in the hall). */
  seat = -1;
  /** In the hall: no seat, counted in the hall word while in line. */
  hall = false;
  /** The seat word as published (WAITING or POLLING for the round), while `published` with a seat. */
  mine = 0;
  /** In line for its round: a seat published for it, or counted in the hall. */
  published = false;
  readonly queue = new WaiterQueue();
  readonly record: Round = { why: undefined };
  /** The pending engine waiter this group counts on (its identity), or undefined. */
  #armed: object | undefined = undefined;
  /** An engine waiter of ours may be pending on the seat (counted on or not): notify it away on leaving. */
  #engine = false;
  #poll: ReturnType<typeof setTimeout> | undefined = undefined;
  #delay = 1;
  #holdsThread = false;
  readonly look = () => this.check();
  readonly #onPoll = () => {
    this.#poll = undefined;
    this.#delay = Math.min(this.#delay * 2, POLL_MAX);
    this.check();
  };

  constructor(
    readonly core: Core,
    /** The round it is in line for. */
    readonly round: number,
  ) {
    this.queue.onEmpty = () => this.leave();
  }

  /**
   * Gets in line for the round: takes a seat and publishes it, its engine waiter registered first, or,
   * when every seat is taken, counts itself in the hall.
   */
  publish(): void {
    const words = this.core.words;
    let seat = takeSeat(words, this.core.at + 1, 1);
    if (seat < 0 && bury(this.core)) seat = takeSeat(words, this.core.at + 1, 1);
    this.published = true;
    if (seat < 0) {
      this.hall = true;
      Atomics.add(words, this.core.at + HALL, 1);
      return; // its engine waiter is registered once a task of it counted in and waits: see joined()
    }
    this.seat = seat;
    if (canWaitAsync()) this.#arm(seat, RESERVED); // the seat is ours and RESERVED: the engine waiter waits
    this.mine = seatWord(canWaitAsync() ? WAITING : POLLING, 0, this.round);
    Atomics.store(words, seat, this.mine);
  }

  /**
   * A waiter joined: keep the thread alive while the group has waiters, and poll where we must. In the
   * hall, look, and register an engine waiter on the bell if there is none: from the value read before
   * the look, so that the ring of a round that ended since the task counted in is not missed.
   */
  joined(): void {
    if (!this.#holdsThread) {
      this.#holdsThread = true;
      holdThread();
    }
    if (!canWaitAsync()) this.#startPolling();
    else if (this.hall) this.check();
  }

  /** Woken, polled, or before a deadline: settles the group if it learns how its round ended, else watches on. */
  check(): void {
    if (this.hall) return this.#listen();
    while (this.published) {
      const v = Atomics.load(this.core.words, this.seat);
      if (v !== this.mine) return this.#claim(v);
      if (!canWaitAsync()) return this.#startPolling();
      if (this.#armed !== undefined || this.#arm(this.seat, v)) return;
    }
  }

  /** Blocks the thread (`Atomics.wait`) until its news may have come, or `ms` passed (undefined: no limit). */
  block(ms?: number): void {
    const words = this.core.words;
    if (!this.hall) {
      Atomics.wait(words, this.seat, this.mine, ms);
      return;
    }
    const bell = this.core.at + BELL;
    const rung = Atomics.load(words, bell);
    if (this.#logged() === undefined) Atomics.wait(words, bell, rung, ms);
  }

  /**
   * Its round ended (a newer one is current): settles it now if it can (its seat was told, or only its
   * round ended since, which the state word tells; in the hall, its round is logged), else it settles
   * once it learns.
   */
  catchUp(): void {
    this.check();
    if (!this.published || this.hall) return;
    const words = this.core.words;
    const state = Atomics.load(words, this.core.at);
    if (roundOf(state) !== ((this.round + 1) & ROUNDS)) return;
    if (Atomics.compareExchange(words, this.seat, this.mine, RESERVED) === this.mine) this.finish(endOf(state));
    else this.check(); // told just now
  }

  /**
   * Out of line for a round that ended (its object counts tasks in a newer one): a group with waiters
   * catches up; one without (in line for a task that could not count in) just leaves its seat or the hall.
   */
  detach(): void {
    if (this.queue.size > 0) return this.catchUp();
    if (this.hall) return this.finish(PASSED);
    if (Atomics.compareExchange(this.core.words, this.seat, this.mine, RESERVED) === this.mine) this.finish(PASSED);
    else this.check();
  }

  /** A waiter gives up (`how`): it ends its round if that is still open, else its round's outcome stands. */
  giveUp(how: number, first?: () => void): void {
    const core = this.core;
    for (;;) {
      const state = Atomics.load(core.words, core.at);
      if (roundOf(state) !== this.round) return this.catchUp();
      if (close(core, state, how)) {
        first?.();
        return tell(core, this.round, how, endOf(state));
      }
    }
  }

  /** Its round ended so: releases its waiters and leaves its seat or the hall. */
  finish(how: number): void {
    this.published = false;
    this.record.why = how === PASSED ? undefined : WHY[how];
    if (this.queue.size === 0) this.leave();
    else this.queue.releaseAll(how === PASSED); // leaves as it empties
  }

  /**
   * The last waiter left: the thread let go, and out of line, the seat back (our engine waiters notified
   * away first) or out of the hall (our engine waiter there, if any, is woken by the bell its round's
   * ender rings: it logged the round before we could read it, and rings after).
   */
  leave(): void {
    if (this.#poll !== undefined) {
      clearTimeout(this.#poll);
      this.#poll = undefined;
    }
    if (this.#holdsThread) {
      this.#holdsThread = false;
      releaseThread();
    }
    if (this.published) return; // still in line: a waitSync of its round counts on it
    if (this.hall) {
      this.hall = false;
      this.#armed = undefined;
      Atomics.sub(this.core.words, this.core.at + HALL, 1);
      return;
    }
    const seat = this.seat;
    if (seat < 0) return;
    this.seat = -1;
    if (this.#engine) Atomics.notify(this.core.words, seat);
    this.#engine = false;
    this.#armed = undefined;
    Atomics.store(this.core.words, seat, FREE);
  }

  /** In the hall: settles the group once its round is logged, else waits for the bell (or polls). */
  #listen(): void {
    const words = this.core.words;
    const bell = this.core.at + BELL;
    while (this.published) {
      const rung = Atomics.load(words, bell); // before the look: a ring after it is not missed
      const how = this.#logged();
      if (how !== undefined) return this.finish(how);
      if (!canWaitAsync()) return this.#startPolling();
      if (this.#armed !== undefined || this.#arm(bell, rung)) return;
    }
  }

  /**
   * How its round ended, from the log: undefined while the round is open or its ender has not logged it
   * yet (the record there is an older round's, or none); LOST when a newer round's record replaced it.
   */
  #logged(): number | undefined {
    const { words, at } = this.core;
    if (roundOf(Atomics.load(words, at)) === this.round) return undefined;
    const r = Atomics.load(words, at + LOG + (this.round & (LOG_SIZE - 1)));
    if ((r & 1) === 0) return undefined;
    const ahead = ((r >>> 4) - this.round) & ROUNDS;
    if (ahead === 0) return (r >>> 1) & 7;
    return ahead < (ROUNDS + 1) / 2 ? LOST : undefined;
  }

  /** Our published seat moved: told (or taken for gone), claims it; taken by another thread since, drops it. */
  #claim(first: number): void {
    const words = this.core.words;
    this.#armed = undefined; // the ender's notify took it, or will: register anew before publishing again
    for (let v = first; ; v = Atomics.load(words, this.seat)) {
      const state = v & STATE;
      if (v >>> 6 !== this.round || (state !== TOLD && state !== DEAD)) {
        this.seat = -1; // taken for gone, and the seat taken by another thread since
        return this.finish(TERMINATED);
      }
      if (Atomics.compareExchange(words, this.seat, v, RESERVED) === v) return this.finish((v >>> 3) & 7);
    }
  }

  /** Registers an engine waiter on word `at` while it holds `expected`; false when it holds something else. */
  #arm(at: number, expected: number): boolean {
    const result = Atomics.waitAsync(this.core.words, at, expected);
    if (!result.async) return false;
    const token = {};
    this.#armed = token;
    this.#engine = true;
    void result.value.then(() => {
      if (this.#armed !== token) return;
      this.#armed = undefined;
      this.check();
    });
    return true;
  }

  #startPolling(): void {
    if (this.#poll === undefined) this.#poll = pollAfter(this.#onPoll, this.#delay);
  }
}

/** A waiter at a barrier: one that times out or is aborted while its round is open breaks the round. */
class BarrierWaiter extends Waiter {
  constructor(
    private readonly group: Group,
    resolve: Resolve,
    reject: ((reason: unknown) => void) | undefined,
    signal: AbortSignal | undefined,
  ) {
    super(group.queue, resolve, reject, signal);
  }

  override expire(): void {
    this.group.giveUp(TIMED_OUT);
  }

  override abort(reason: unknown): void {
    this.signal = undefined; // the signal let go of every waiter as it aborted
    if (this.queued) this.group.giveUp(ABORTED, () => super.abort(reason));
  }
}

/**
 * A {@link Barrier} whose state lives in a `SharedArrayBuffer`, so the tasks of every thread holding the
 * buffer (Node `worker_threads`, browser Web Workers, the main thread) meet at one barrier, with no
 * messages: `parties` tasks call `wait()`, and all of them go on together once the last one arrives,
 * each with its arrival index. Then the barrier starts over for the next round.
 *
 * As with `Barrier` (and Python's `threading.Barrier`), a waiter that times out or is aborted breaks
 * the barrier for everyone; so does a waiter whose thread is terminated while it waits (found when its
 * round ends: the barrier breaks then, so that nobody waits for that thread in the next round). Post
 * the barrier itself to another thread and rebuild it there with {@link SharedBarrier.from} (or post
 * `buffer` and `byteOffset` and call `new SharedBarrier(parties, buffer, byteOffset)`): building it over
 * memory that holds it already resets nothing. `wait()` never blocks the thread; `waitSync()` does. Any
 * number of threads may wait at once.
 *
 * @example
 * ```ts
 * // main thread
 * import { SharedBarrier } from 'awaitable-event';
 * const barrier = new SharedBarrier(4);
 * for (let i = 0; i < 4; i++) new Worker('./worker.js', { workerData: { barrier } });
 *
 * // worker.js
 * const barrier = SharedBarrier.from(workerData.barrier);
 * for (let step = 0; step < 10; step++) {
 *   compute(step);
 *   await barrier.wait(); // nobody starts step + 1 before all four finished step
 * }
 * ```
 */
export class SharedBarrier {
  /**
   * Bytes one barrier occupies in a buffer (276, a multiple of 4); several barriers of one buffer sit at
   * offsets that far apart.
   *
   * @example
   * ```ts
   * const buffer = new SharedArrayBuffer(2 * SharedBarrier.BYTES);
   * const [a, b] = [0, 1].map((i) => new SharedBarrier(3, buffer, i * SharedBarrier.BYTES));
   * ```
   */
  static readonly BYTES: number = 276; // 4 * (2 + SEATS + 2 + LOG_SIZE + 1): a literal, so bundlers see no side effect

  /**
   * The barrier over the memory of `value`: a `SharedBarrier` posted from another thread (what arrives
   * is its structured clone, a plain object with its `buffer`, `byteOffset` and `parties`), or a
   * `SharedBarrier` of this thread. Returns `value` itself for a `SharedBarrier` of this thread; for a
   * clone, this thread's live barrier at that place of the same `SharedArrayBuffer` object when there is
   * one (the objects of one message share their buffers), else a new one with the parties the memory
   * holds (a barrier received in two messages rebuilds to two objects over the same memory, which work
   * together as two threads' do).
   *
   * @throws `TypeError` naming what is wrong and showing it when `value` is not an object, has no
   *   `SharedArrayBuffer` as `buffer` or no valid `byteOffset` in it, or its memory holds no barrier
   *   (another kind of primitive, or none).
   *
   * @example
   * ```ts
   * // main thread
   * const barrier = new SharedBarrier(4);
   * new Worker('./worker.js', { workerData: { barrier } });
   *
   * // worker.js
   * const barrier = SharedBarrier.from(workerData.barrier);
   * await barrier.wait();
   * ```
   */
  static from(value: unknown): SharedBarrier {
    if (value instanceof SharedBarrier) return value;
    const at = arrived<SharedBarrier>(BARRIER, value);
    const parties = Atomics.load(new Int32Array(at.buffer, at.byteOffset, 1), 0);
    return at.live ?? new SharedBarrier(parties, at.buffer, at.byteOffset);
  }

  /**
   * The shared memory holding the barrier. A posted barrier carries it (with
   * {@link SharedBarrier.byteOffset} and {@link SharedBarrier.parties}), as its structured clone keeps
   * exactly these properties.
   *
   * @example
   * ```ts
   * worker.postMessage({ buffer: barrier.buffer, byteOffset: barrier.byteOffset });
   * ```
   */
  readonly buffer: SharedArrayBuffer;

  /**
   * Where in {@link SharedBarrier.buffer} the barrier's words start.
   *
   * @example
   * ```ts
   * const same = new SharedBarrier(barrier.parties, barrier.buffer, barrier.byteOffset);
   * ```
   */
  readonly byteOffset: number;

  /**
   * How many tasks meet each round, across every thread.
   *
   * @example
   * ```ts
   * console.log(`${barrier.waiting} of ${barrier.parties} arrived`);
   * ```
   */
  readonly parties: number;

  readonly #core: Core;
  static #prepared = false;

  /**
   * @param parties - how many tasks meet each round, a whole number from 1 to 65,535. Over memory that
   *   holds a barrier already, it must be that barrier's.
   * @param buffer - the shared memory to use; omitted, a new `SharedArrayBuffer` of
   *   {@link SharedBarrier.BYTES} bytes. Fresh (zeroed) memory is set up for `parties`; memory that holds
   *   a barrier already (built by another thread, or another object of this one) is used as it is,
   *   rounds in progress and all.
   * @param byteOffset - where the barrier's words start in `buffer`: a multiple of 4, default 0.
   * @throws `TypeError` when `parties` is not a number, `RangeError` when it is below 1, above 65,535,
   *   fractional, NaN or infinite, or differs from the parties of the barrier the memory holds;
   *   `TypeError` when `buffer` is not a `SharedArrayBuffer` (or shared memory is unavailable: in a
   *   browser, the page needs cross-origin isolation) or `byteOffset` is not a number; `RangeError` when
   *   `byteOffset` is not a multiple of 4 or does not leave room for the barrier in `buffer`; `TypeError`
   *   when its words overlap those of another live primitive this thread built on `buffer`.
   *
   * @example
   * ```ts
   * const barrier = new SharedBarrier(3);                                    // a new buffer
   * const again = new SharedBarrier(3, barrier.buffer, barrier.byteOffset); // the same barrier, e.g. in a worker
   * ```
   */
  constructor(parties: number, buffer?: SharedArrayBuffer, byteOffset: number = 0) {
    const n = readCount(parties, 'parties', 1);
    if (n > MAX_PARTIES) throw new RangeError(`parties must be at most ${MAX_PARTIES}, got ${n}`);
    const memory = sharedMemory(BARRIER, buffer, byteOffset, this, (words, index) => Atomics.store(words, index, n));
    const found = Atomics.load(memory.words, memory.index);
    if (found !== n) {
      throw new RangeError(
        `parties must be ${found}, the parties of the barrier at byteOffset ${memory.byteOffset} of this buffer, got ${n}`,
      );
    }
    this.buffer = memory.buffer;
    this.byteOffset = memory.byteOffset;
    this.parties = n;
    this.#core = { words: memory.words, at: memory.index + 1, group: undefined, watch: undefined };
    if (!SharedBarrier.#prepared) {
      // Set up by the first barrier made, not in the class body (see core/inspect.ts).
      SharedBarrier.#prepared = inspectable(SharedBarrier.prototype, 'SharedBarrier', (b) => ({
        parties: b.parties,
        waiting: b.waiting,
        broken: b.broken,
      }));
    }
  }

  /**
   * How many tasks of the current round are waiting now, on every thread.
   *
   * @example
   * ```ts
   * console.log(`${barrier.parties - barrier.waiting} still to come`);
   * ```
   */
  get waiting(): number {
    return Atomics.load(this.#core.words, this.#core.at) & COUNT;
  }

  /**
   * Whether the barrier is broken: every `wait()` rejects at once until `reset()`, on every thread.
   *
   * @example
   * ```ts
   * if (barrier.broken) barrier.reset();
   * ```
   */
  get broken(): boolean {
    return breaks(endOf(Atomics.load(this.#core.words, this.#core.at)));
  }

  /**
   * Arrives at the barrier and waits for the other parties of the round, on any thread. Resolves with
   * this task's arrival index in the round, `0` to `parties - 1`; the last party's `wait()` resolves at
   * once and releases every other.
   *
   * Rejects with a {@link BrokenBarrierError} when the barrier is broken already, or breaks before the
   * round is complete. A Node worker with a pending `wait()` stays alive until it settles.
   *
   * @example
   * ```ts
   * const index = await barrier.wait();
   * if (index === 0) console.log('first to arrive');
   * ```
   */
  wait(): Promise<number>;
  /**
   * Like `wait()`, giving up after `timeout` milliseconds: a timeout breaks the barrier, and this and
   * every other waiter of the round, on every thread, reject with a {@link BrokenBarrierError}. `0` or
   * less completes the round if this is its last party, and breaks the barrier at once otherwise.
   *
   * @example
   * ```ts
   * await barrier.wait(10_000); // a party that takes more than 10 s breaks it for everyone
   * ```
   */
  wait(timeout: number): Promise<number>;
  /**
   * Like `wait()`, with a timeout and a signal. An abort breaks the barrier: this wait rejects with
   * `signal.reason`, every other waiter of the round with a {@link BrokenBarrierError}. A signal that is
   * aborted already rejects without arriving, and breaks nothing.
   *
   * @example
   * ```ts
   * await barrier.wait({ timeout: 10_000, signal: shutdown.signal });
   * ```
   */
  wait(options: WaitOptions): Promise<number>;
  /**
   * Like `wait()`, with an optional timeout or options: the form to forward an argument that may be
   * either, or absent.
   *
   * @example
   * ```ts
   * const meet = (timeout?: number) => barrier.wait(timeout);
   * ```
   */
  wait(arg?: number | WaitOptions): Promise<number>;
  wait(arg?: number | WaitOptions): Promise<number> {
    let group: Group | undefined;
    let index: number;
    let signal: AbortSignal | undefined;
    let timeout: number;
    try {
      ({ timeout, signal } = readWaitArg(arg));
      if (signal !== undefined && isAborted(signal)) return Promise.reject(reasonOf(signal));
      ({ group, index } = this.#arrive(timeout > 0, 'SharedBarrier.wait()'));
    } catch (error) {
      return Promise.reject(error);
    }
    if (group === undefined) return TRUE.then(() => index);
    const promise = new Promise<boolean>(capture);
    const w = new BarrierWaiter(group, lastResolve, signal === undefined ? undefined : lastReject, signal);
    forgetCaptured();
    enqueue(group.queue, w, timeout, signal);
    group.joined();
    // Before a deadline breaks the round: a round ended by another thread, its news not delivered yet,
    // settles the group first.
    lookBeforeDeadlines(group.queue, group.look);
    const record = group.record;
    return promise.then((passed) => {
      if (passed) return index;
      throw this.#broke('SharedBarrier.wait()', record.why!);
    });
  }

  /**
   * Arrives at the barrier and blocks the thread until the round is complete, with this task's arrival
   * index, or breaks. Only where `Atomics.wait` is allowed: Node's main thread, Node workers and Web
   * Workers, not a browser page's main thread. It blocks every task of its thread: its other tasks
   * cannot arrive meanwhile.
   *
   * @param timeout - milliseconds; omitted or `Infinity` waits for ever. One that runs out breaks the
   *   barrier, as `wait(timeout)` does; `0` or less completes the round if this is its last party, and
   *   breaks the barrier at once otherwise.
   * @returns the arrival index, `0` to `parties - 1`.
   * @throws {@link BrokenBarrierError} when the barrier is broken already, or breaks before the round is
   *   complete; `Error` where the thread may not block (use `await barrier.wait()` there); `TypeError` /
   *   `RangeError` for a timeout that is not a number / NaN.
   *
   * @example
   * ```ts
   * // in a worker
   * for (let step = 0; step < 10; step++) {
   *   compute(step);
   *   barrier.waitSync();
   * }
   * ```
   */
  waitSync(timeout?: number): number {
    const ms = timeout === undefined ? Infinity : readTimeout(timeout, 'timeout');
    assertMayBlock('SharedBarrier.waitSync()', 'await barrier.wait()');
    const { group, index } = this.#arrive(ms > 0, 'SharedBarrier.waitSync()');
    if (group === undefined) return index;
    const words = this.#core.words;
    const deadline = monotonic() + ms;
    while (group.published) {
      const left = deadline - monotonic();
      if (left > 0) group.block(left);
      else if (roundOf(Atomics.load(words, this.#core.at)) === group.round) group.giveUp(TIMED_OUT);
      else group.block(); // its round ended: its outcome is on its way
      group.check();
    }
    if (group.record.why === undefined) return index;
    throw this.#broke('SharedBarrier.waitSync()', group.record.why);
  }

  /**
   * Ends the current round: its waiters, on every thread, reject with a {@link BrokenBarrierError}, and
   * the barrier, broken or not, is ready for a new round.
   *
   * @example
   * ```ts
   * barrier.reset(); // start over, with whoever calls wait() next
   * ```
   */
  reset(): void {
    this.#end(RESET);
  }

  /**
   * Breaks the barrier: its waiters on every thread, and every later `wait()` until `reset()`, reject
   * with a {@link BrokenBarrierError}. What a party calls when it cannot go on (or on behalf of a worker
   * that was terminated), so the others do not wait for it for ever.
   *
   * @example
   * ```ts
   * worker.on('error', () => barrier.abort());
   * ```
   */
  abort(): void {
    this.#end(ABORT_CALLED);
  }

  get [Symbol.toStringTag](): string {
    return 'SharedBarrier';
  }

  #end(how: number): void {
    const core = this.#core;
    for (;;) {
      const state = Atomics.load(core.words, core.at);
      if (close(core, state, how)) return tell(core, roundOf(state), how, endOf(state));
    }
  }

  /**
   * Counts a task in: `group` undefined when it passed at once (the last of its round), else the group
   * it waits in, in line for its round. Throws the BrokenBarrierError of a broken barrier, or of the
   * round it broke (a task that would not wait).
   */
  #arrive(willWait: boolean, method: string): { group: Group | undefined; index: number } {
    const core = this.#core;
    const words = core.words;
    const last = this.parties - 1;
    for (;;) {
      const state = Atomics.load(words, core.at);
      const round = roundOf(state);
      const current = core.group;
      if (current?.published === true && current.round !== round) {
        core.group = undefined;
        current.detach();
      }
      const how = endOf(state);
      if (breaks(how)) {
        throw new BrokenBarrierError(`${method}: the barrier is broken (${WHY[how]}); reset() it first`);
      }
      const index = state & COUNT;
      if (index === last || !willWait) {
        const end = index === last ? PASSED : TIMED_OUT;
        if (!close(core, state, end)) continue;
        tell(core, round, end, how);
        if (end === PASSED) return { group: undefined, index };
        throw this.#broke(method, WHY[end]!);
      }
      let group = core.group;
      if (group?.published !== true) {
        group = new Group(core, round);
        group.publish();
        core.group = group;
      }
      if (Atomics.compareExchange(words, core.at, state, state + 1) === state) return { group, index };
    }
  }

  #broke(method: string, why: string): BrokenBarrierError {
    return new BrokenBarrierError(`${method}: the barrier broke before all ${this.parties} parties arrived (${why})`);
  }
}
