/**
 * How the thread budget is shared by the models loaded now. A model whose settings name a thread
 * count keeps exactly that. The others are guaranteed their fair share (what the placement check
 * counts, so that they always fit together), and the threads nobody is guaranteed are spread over
 * them, up to each one's maximum: a lone model runs on the whole budget, and gives threads back
 * as soon as another model loads. Models on their way out keep what they have until they are
 * gone. Pure: the scheduler passes in its runners and applies the answer.
 */

export interface ThreadClaim<T> {
  key: T;
  /** Threads it is guaranteed (the placement check counted them). */
  threads: number;
  /** The most it may be given; equal to `threads` for a fixed count. */
  maxThreads: number;
  /** What it holds now, for one that is stopping. */
  holding?: number;
  /** Stopping (unloading, failed, or finishing its last requests before a reload): keeps `holding`. */
  stopping: boolean;
}

/** The threads each live claim should use now, by key. Stopping claims are left out. */
export function shareThreads<T>(claims: readonly ThreadClaim<T>[], budget: number): Map<T, number> {
  const shares = new Map<T, number>();
  const live = claims.filter((c) => !c.stopping);
  let free = budget;
  for (const c of claims) free -= c.stopping ? (c.holding ?? c.threads) : c.threads;
  for (const c of live) shares.set(c.key, c.threads);
  // Hand out the unclaimed threads one at a time, in turn, to those that may take more: equal
  // extras however the maxima differ, and no thread left idle while someone could use it.
  let growing = live.filter((c) => c.maxThreads > c.threads);
  while (free > 0 && growing.length > 0) {
    for (const c of growing) {
      if (free === 0) break;
      shares.set(c.key, shares.get(c.key)! + 1);
      free--;
    }
    growing = growing.filter((c) => shares.get(c.key)! < c.maxThreads);
  }
  return shares;
}
