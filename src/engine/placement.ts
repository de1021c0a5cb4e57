/**
 * Decides whether a model can be loaded now, and which idle models to evict for it: the
 * fewest least-recently-used idle models that make room in count, threads and memory.
 * Pure: the scheduler passes in the state, so the policy is tested on its own.
 */
import { AppError } from '../errors.js';

export interface Resident {
  threads: number;
  memoryBytes: number;
  /** Idle (no leases, not loading): may be evicted. */
  idle: boolean;
  /** Loading: its memory is not allocated yet, so a free-memory probe does not show it. */
  loading: boolean;
  lastUsed: number;
  /** Being disposed: still holds threads and memory, no longer counts as loaded. */
  stopping: boolean;
}

export interface PlacementLimits {
  maxLoadedModels: number;
  threadBudget: number;
  /** A fixed budget for all models; when unset, `freeBytes` is used. */
  memoryBudgetBytes?: number;
  /** Free memory now (used without a budget). */
  freeBytes: number;
}

export type Placement<T> = { kind: 'load'; evict: T[] } | { kind: 'wait' };

export function placeModel<T extends Resident>(
  need: { name: string; threads: number; memoryBytes: number },
  residents: readonly T[],
  limits: PlacementLimits,
): Placement<T> {
  const sum = (list: readonly Resident[], f: (r: Resident) => number) => list.reduce((s, r) => s + f(r), 0);
  // The most this model could ever get: the budget, or free memory plus what every allocated model holds.
  const ceiling = limits.memoryBudgetBytes ?? limits.freeBytes + sum(residents.filter((r) => !r.loading), (r) => r.memoryBytes);
  if (need.memoryBytes > ceiling) {
    throw new AppError(
      'insufficient_memory',
      `model ${need.name} needs about ${need.memoryBytes} bytes but only ${ceiling} bytes are available even with every other model unloaded`,
      { data: { model: need.name, neededBytes: need.memoryBytes, availableBytes: ceiling } },
    );
  }
  const candidates = residents.filter((r) => r.idle && !r.stopping).sort((a, b) => a.lastUsed - b.lastUsed);
  for (let k = 0; k <= candidates.length; k++) {
    const evict = candidates.slice(0, k);
    const kept = residents.filter((r) => !evict.includes(r));
    const loaded = kept.filter((r) => !r.stopping).length;
    const threads = sum(kept, (r) => r.threads);
    const fitsMemory =
      limits.memoryBudgetBytes !== undefined
        ? sum(kept, (r) => r.memoryBytes) + need.memoryBytes <= limits.memoryBudgetBytes
        : need.memoryBytes + sum(kept.filter((r) => r.loading), (r) => r.memoryBytes) <= limits.freeBytes + sum(evict, (r) => r.memoryBytes);
    if (loaded + 1 <= limits.maxLoadedModels && threads + need.threads <= limits.threadBudget && fitsMemory) {
      return { kind: 'load', evict };
    }
  }
  return { kind: 'wait' };
}
