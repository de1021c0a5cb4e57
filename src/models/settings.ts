/**
 * Per-model runtime settings (context size, parallelism, keep-alive...), persisted in the store
 * keyed by model ID. Every change is a read-modify-write of one file, so changes run one at a
 * time: two `_configure` calls for different models must not lose each other's write.
 */
import type { RuntimeSettings } from '../engine/types.js';
import type { ModelStore } from '../store/types.js';

/** A change: a field set to undefined or null is removed (back to the default). */
export type SettingsPatch = { [K in keyof RuntimeSettings]?: RuntimeSettings[K] | null };

export class SettingsService {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: ModelStore) {}

  async get(id: string): Promise<RuntimeSettings> {
    const all = await this.serialised(() => this.store.readSettings());
    return { ...((all[id] ?? {}) as RuntimeSettings) };
  }

  async list(): Promise<Record<string, RuntimeSettings>> {
    const all = await this.serialised(() => this.store.readSettings());
    return all as Record<string, RuntimeSettings>;
  }

  /** Merges `patch` into the model's settings and returns the result. */
  set(id: string, patch: SettingsPatch): Promise<RuntimeSettings> {
    return this.serialised(async () => {
      const all = await this.store.readSettings();
      const next: Record<string, unknown> = { ...(all[id] ?? {}) };
      for (const [key, value] of Object.entries(patch)) {
        if (value === undefined || value === null) delete next[key];
        else next[key] = value;
      }
      if (Object.keys(next).length === 0) delete all[id];
      else all[id] = next;
      await this.store.writeSettings(all);
      return { ...next } as RuntimeSettings;
    });
  }

  /** Forgets a model's settings (after it is deleted). */
  remove(id: string): Promise<void> {
    return this.serialised(async () => {
      const all = await this.store.readSettings();
      if (!(id in all)) return;
      delete all[id];
      await this.store.writeSettings(all);
    });
  }

  private serialised<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation, operation);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
