/**
 * Cross-thread cases pin their two threads to two different cores. Left to the scheduler, the two threads
 * of a run share one core in some runs and not in others, and a wake-up on a shared core costs a quarter
 * of one across cores (10 against 45 µs per round trip on this project's machine): that, not the code,
 * would decide a median. Two cores, each thread on its own, is also how busy threads run.
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { cpus } from 'node:os';

/** The cores of side A (the main thread or the first worker) and of side B; every core. */
export const CORE_A = '0';
export const CORE_B = '1';
export const ALL_CORES = `0-${cpus().length - 1}`;

/** Linux, with two cores or more: where pinning means anything. */
const pinnable = process.platform === 'linux' && cpus().length >= 2;

/** Pins the calling thread (main or worker) to `cores` (a taskset list); nothing where it cannot. */
export function pinThread(cores: string): void {
  if (!pinnable) return;
  const tid = readlinkSync('/proc/thread-self').split('/').pop()!;
  try {
    execFileSync('taskset', ['-p', '-c', cores, tid], { stdio: 'ignore' });
  } catch {
    // No taskset here: the threads stay where the scheduler puts them.
  }
}
