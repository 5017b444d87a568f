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

/**
 * The key (and channel) of a primitive of `kind` named `name`. Redis takes the hash tag to end at the first
 * `}`: one in the name (written `%7D`, and `%` as `%25`, so that two names never share a key) would end it
 * early, and one that begins the name would leave the tag empty, and the keys in different slots.
 */
export function keyOf(kind: 'event' | 'lock' | 'semaphore', name: string): string {
  return `awaitable-event:${kind}:{${name.replace(/[%}]/g, (c) => (c === '%' ? '%25' : '%7D'))}}`;
}
