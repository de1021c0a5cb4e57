/**
 * How the model handle reaches its engine: a Worker in this process (worker-transport.ts) or a
 * child process (process-transport.ts). Both carry the same messages; they differ in how the
 * engine can end and in what may be done to a stuck one.
 */
import type { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Isolation, MainToWorker, WorkerInit, WorkerToMain } from './protocol.js';

/** How the engine ended: a signal only for a process. */
export interface EngineExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TransportEvents {
  message(message: WorkerToMain): void;
  /** The engine failed outside the protocol (a Worker error, a hung process); the error names the model. */
  failure(error: AppError): void;
  /** The engine ended, asked to or not; fires once, after its last message. */
  exit(exit: EngineExit): void;
}

export interface EngineTransport {
  readonly isolation: Isolation;
  /** What messages call the engine: "the worker of model X", "the engine process of model X". */
  readonly noun: string;
  /** The child's process id; undefined for a Worker. */
  readonly pid: number | undefined;
  /** Sends one message; a no-op once the engine has ended. */
  post(message: MainToWorker): void;
  /** Resolves when the engine has ended. */
  readonly exited: Promise<void>;
  /** The cooperative stop took longer than timeoutMs: leave a Worker to finish, kill a process. */
  abandon(timeoutMs: number): void;
}

export interface TransportOptions {
  init: WorkerInit;
  /** The model's name, for messages and the Worker's name. */
  name: string;
  logger: Logger;
  events: TransportEvents;
}
