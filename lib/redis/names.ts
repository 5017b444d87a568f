/*
 * Names and keys. Every key and channel of a primitive embeds its name as a hash tag (`{name}`), so all
 * of them hash to one Redis Cluster slot and each script can touch them together.
 */
import { describe } from '../core/arguments.js';

/** Checks a primitive's name: a non-empty string (`TypeError` otherwise). */
export function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`name must be a non-empty string, got ${describe(name)}`);
  }
  return name;
}

/** The key (and channel) of a primitive of `kind` named `name`. */
export function keyOf(kind: 'event' | 'lock' | 'semaphore', name: string): string {
  return `awaitable-event:${kind}:{${name}}`;
}
