/**
 * Runs at most one operation per key at a time; callers that arrive while it runs share its
 * result. Used so that two requests for the same model share one download or one load.
 */
export class SingleFlight<K, V> {
  private readonly inFlight = new Map<K, Promise<V>>();

  run(key: K, operation: () => Promise<V>): Promise<V> {
    const existing = this.inFlight.get(key);
    if (existing) return existing;
    const promise = operation().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  has(key: K): boolean {
    return this.inFlight.has(key);
  }
}
