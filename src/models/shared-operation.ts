/**
 * Long operations that several requesters may ask for at once (two `pull`s of one model): they
 * run once, every requester receives every event from the moment it joined and the same result,
 * and the operation is cancelled only when the last requester has gone away.
 */
import { AppError } from '../errors.js';
import { SingleFlight } from '../util/single-flight.js';

export interface JoinOptions<E> {
  /** Receives the operation's events from now on. Defaults to none. */
  onEvent?: (event: E) => void;
  /** Aborting it withdraws this requester; the operation stops only when none remain. Defaults to none. */
  signal?: AbortSignal;
}

/** What an operation receives: a way to send events to every requester, and the shared cancellation. */
export interface OperationContext<E> {
  emit: (event: E) => void;
  signal: AbortSignal;
}

interface Requester<E> {
  onEvent?: (event: E) => void;
}

interface Flight<V, E> {
  requesters: Set<Requester<E>>;
  controller: AbortController;
  promise: Promise<V>;
}

export class SharedOperations<K, V, E> {
  private readonly singleFlight = new SingleFlight<K, V>();
  private readonly flights = new Map<K, Flight<V, E>>();

  /** Whether an operation for `key` is running now. */
  has(key: K): boolean {
    return this.flights.has(key);
  }

  /**
   * Joins the operation running under `key`, or starts `operation` when none runs. Resolves with
   * the operation's result; rejects with 'aborted' as soon as this requester's signal fires, even
   * while others keep the operation alive.
   */
  run(key: K, options: JoinOptions<E>, operation: (context: OperationContext<E>) => Promise<V>): Promise<V> {
    if (options.signal?.aborted) return Promise.reject(new AppError('aborted', 'the request was cancelled'));
    const existing = this.flights.get(key);
    // A cancelled operation may still be winding down; joining it would inherit its cancellation.
    if (existing?.controller.signal.aborted) return this.afterSettled(existing, options).then(() => this.run(key, options, operation));
    const flight = existing ?? this.start(key, operation);
    const requester: Requester<E> = { onEvent: options.onEvent };
    flight.requesters.add(requester);

    return new Promise<V>((resolve, reject) => {
      const leave = () => {
        flight.requesters.delete(requester);
        options.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        leave();
        if (flight.requesters.size === 0) flight.controller.abort(new AppError('aborted', 'every requester went away'));
        reject(new AppError('aborted', 'the request was cancelled'));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (value) => {
          leave();
          resolve(value);
        },
        (err: unknown) => {
          leave();
          reject(err);
        },
      );
    });
  }

  /** Resolves once `flight` has settled either way; rejects early if this requester leaves meanwhile. */
  private afterSettled(flight: Flight<V, E>, options: JoinOptions<E>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new AppError('aborted', 'the request was cancelled'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      flight.promise.then(done, done);
    });
  }

  private start(key: K, operation: (context: OperationContext<E>) => Promise<V>): Flight<V, E> {
    const requesters = new Set<Requester<E>>();
    const controller = new AbortController();
    const emit = (event: E) => {
      for (const requester of requesters) {
        try {
          requester.onEvent?.(event);
        } catch {
          // One requester's broken sink (a closed socket) must not stop the others' stream.
        }
      }
    };
    const flight: Flight<V, E> = {
      requesters,
      controller,
      promise: this.singleFlight.run(key, async () => {
        try {
          // Deferred one tick so that the first requester is registered before the first event.
          await Promise.resolve();
          return await operation({ emit, signal: controller.signal });
        } finally {
          // Removed before the result reaches anyone, so a request arriving afterwards starts afresh.
          if (this.flights.get(key) === flight) this.flights.delete(key);
        }
      }),
    };
    // Every requester may have left already; the rejection is theirs, not an unhandled one.
    flight.promise.catch(() => undefined);
    this.flights.set(key, flight);
    return flight;
  }
}
