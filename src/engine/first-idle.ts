/**
 * When a freshly loaded engine is first idle: its model is ready and no request sent to it is
 * still unanswered. The server starts the next spare Worker then (spare-worker.ts), not at the
 * load's end: a load is almost always for a request that waits on it, and a spare starting
 * meanwhile (importing node-llama-cpp and loading its binding, ~0.3 s of CPU) would run beside
 * that request's first prompt, which computes on every core; measured on 2 vCPUs, it made the
 * first prompt after a cold load ~160 ms slower (230 ms instead of 70).
 */
import type { MainToWorker, WorkerToMain } from './protocol.js';

export class FirstIdle {
  private ready = false;
  private done = false;
  /** Ids of the requests sent and not yet answered. */
  private readonly unanswered = new Set<number>();

  /**
   * @param onIdle Called once, when the engine is first idle (or its load failed).
   * @param defer Runs the check that follows 'ready' later: the request that waited on the load
   *   is sent in the microtasks after 'ready' arrives. Defaults to setImmediate.
   */
  constructor(
    private readonly onIdle: () => void,
    private readonly defer: (check: () => void) => void = (check) => void setImmediate(check),
  ) {}

  /** Every message sent to the engine. */
  sent(message: MainToWorker): void {
    if (this.done || !('id' in message) || message.type === 'cancel') return;
    this.unanswered.add(message.id);
  }

  /** Every message from the engine. */
  received(message: WorkerToMain): void {
    if (this.done) return;
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.defer(() => this.check());
        return;
      case 'load-error':
        // No request will run on it: nothing to keep the CPU for.
        return this.fire();
      case 'event':
        if (message.event.type === 'done') this.answered(message.id);
        return;
      case 'result':
      case 'error':
        return this.answered(message.id);
    }
  }

  private answered(id: number): void {
    this.unanswered.delete(id);
    this.check();
  }

  private check(): void {
    if (this.ready && this.unanswered.size === 0) this.fire();
  }

  private fire(): void {
    if (this.done) return;
    this.done = true;
    this.unanswered.clear();
    this.onIdle();
  }
}
