// redlock 5.0.0-beta.2 ships types (dist/index.d.ts) that its `exports` map does not point to, so
// TypeScript's nodenext resolution cannot find them: the part the bench uses, declared here.
declare module 'redlock' {
  import type { Redis } from 'ioredis';

  export interface Lock {
    release(): Promise<unknown>;
  }
  export default class Redlock {
    constructor(
      clients: Iterable<Redis>,
      settings?: { retryCount?: number; retryDelay?: number; retryJitter?: number },
    );
    acquire(resources: string[], duration: number): Promise<Lock>;
  }
}
