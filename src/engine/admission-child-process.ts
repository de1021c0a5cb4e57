/**
 * The admission check's child processes, with one kept warm. Starting node-llama-cpp is most of a
 * check on a small model (1.2 s of 1.8 s on the reference machine) and says nothing about the
 * model file, so while one check runs the next child starts its engine and waits: the next check
 * pays only for its model. Each child checks one model and ends, so whatever a model did to a
 * process is gone with it. A spare that nobody takes within SPARE_IDLE_MS is stopped, and a spare
 * never holds the server's event loop open.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { AppError } from '../errors.js';
import type { AdmissionCheckRequest, AdmissionChildReply, AdmissionEngineRequest } from './admission-protocol.js';
import { lastWords } from './admission-words.js';
import { engineChildEnv } from './child-env.js';
import { childNodeFlags, resolveChildScript } from './child-script.js';
import type { ModelMode } from './types.js';

/** For the child to start node-llama-cpp, before any model's time starts; running out is the engine's failure. */
export const ENGINE_START_TIMEOUT_MS = 120_000;
/** How long a warm child waits for a check before it is stopped (a burst of pulls or uploads reuses it). */
export const SPARE_IDLE_MS = 60_000;
/** Spares kept at most, when checks come in a burst. */
const MAX_SPARES = 2;
/** The child's V8 heap: model weights live outside it, so a template or tokenizer blow-up stops here. */
const CHILD_HEAP_MB = 1024;
/** stderr kept from the child for the refusal message. */
const STDERR_TAIL_BYTES = 8192;

export type ChildVerdict = Extract<AdmissionChildReply, { type: 'verdict' }>;

/** How a child ended: its exit, its verdict if it sent one, and what the parent ended it for. */
export interface ChildEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  verdict?: ChildVerdict;
  endedBy?: 'timeout' | 'aborted' | 'idle';
  stderr: string;
}

export class AdmissionChild {
  /** Resolves once the engine is up; rejects with an 'internal' AppError when it cannot start. */
  readonly engineReady: Promise<void>;
  /** Resolves when the process has ended, however it ended. */
  readonly ended: Promise<ChildEnd>;
  private readonly child: ChildProcess;
  private stderr = '';
  private verdict: ChildVerdict | undefined;
  private endedBy: ChildEnd['endedBy'];
  private exited = false;
  private up = false;

  constructor(readonly engine: AdmissionEngineRequest) {
    const script = resolveChildScript('worker/admission-child');
    this.child = fork(script.modulePath, [JSON.stringify(engine)], {
      // ggml's abort handler would otherwise attach gdb for a backtrace, which takes seconds.
      ...childNodeFlags(script, [`--max-old-space-size=${CHILD_HEAP_MB}`], engineChildEnv(process.env, { GGML_NO_BACKTRACE: '1' })),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_TAIL_BYTES);
    });
    let engineFailure: string | undefined;
    let markReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    this.child.on('message', (message: AdmissionChildReply) => {
      if (message.type === 'engine-ready') {
        this.up = true;
        markReady();
      }
      else if (message.type === 'engine-failed') engineFailure ??= message.error.message;
      else this.verdict ??= message;
    });
    this.ended = new Promise<ChildEnd>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        resolve({ code, signal, verdict: this.verdict, endedBy: this.endedBy, stderr: this.stderr });
      });
      this.child.once('error', (err) => {
        // A fork that never started emits no 'exit'.
        if (this.child.pid !== undefined) return;
        this.exited = true;
        engineFailure ??= err.message;
        resolve({ code: null, signal: null, stderr: this.stderr });
      });
    });
    const startTimer = setTimeout(() => {
      engineFailure ??= `not up within ${ENGINE_START_TIMEOUT_MS / 1000} s`;
      this.kill('timeout');
    }, ENGINE_START_TIMEOUT_MS);
    startTimer.unref();
    this.engineReady = Promise.race([
      ready,
      this.ended.then((end) => {
        const why = engineFailure ?? (lastWords(end.stderr) || `exit code ${end.code ?? end.signal}`);
        throw new AppError('internal', `the admission check could not start the engine: ${why}`);
      }),
    ]).finally(() => clearTimeout(startTimer));
    // A spare may fail to start with nobody waiting on it.
    this.engineReady.catch(() => {});
    this.park();
  }

  /** Whether the engine has started, so a check sent now pays only for its model. */
  get engineUp(): boolean {
    return this.up && this.alive;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exited && this.endedBy === undefined;
  }

  /** Taken for a check: from now on it holds the event loop open like any work in progress. */
  hold(): void {
    this.child.ref();
    this.child.channel?.ref();
    (this.child.stderr as Socket | null)?.ref();
  }

  /** Sends the one model this child checks. */
  check(modelPath: string, mode: ModelMode): void {
    const request: AdmissionCheckRequest = { type: 'check', modelPath, mode };
    if (this.child.connected) this.child.send(request, undefined, undefined, () => {});
  }

  kill(why: NonNullable<ChildEnd['endedBy']>): void {
    if (this.exited) return;
    this.endedBy ??= why;
    this.child.kill('SIGKILL');
  }

  /** An idle child must not keep the process alive: a server or a CLI command ends as if it were not there. */
  park(): void {
    this.child.unref();
    this.child.channel?.unref();
    (this.child.stderr as Socket | null)?.unref();
  }
}

/**
 * Hands out admission children: a warm spare when one was started for the same engine settings,
 * else a new child. One spare is kept; when checks come faster than a spare warms up (a burst of
 * uploads, a fuzz), two, so that the next check finds one up. An idle spare holds about 40 MiB of
 * its own (85 MiB resident, half of it shared libraries).
 */
export class AdmissionChildren {
  private spares: Array<{ child: AdmissionChild; timer: NodeJS.Timeout }> = [];

  /** A child for one check; spares start warming for the next. */
  take(engine: AdmissionEngineRequest): AdmissionChild {
    this.dropUnusable(engine);
    const spare = this.spares.shift();
    if (spare) clearTimeout(spare.timer);
    const child = spare?.child ?? new AdmissionChild(engine);
    child.hold();
    const burst = spare === undefined || !spare.child.engineUp;
    this.topUp(engine, burst ? MAX_SPARES : 1);
    return child;
  }

  /**
   * Makes sure a spare for these settings is starting, and resolves once its engine is up (or
   * failed to start). For callers that know a check is coming.
   */
  warm(engine: AdmissionEngineRequest): Promise<void> {
    this.dropUnusable(engine);
    this.topUp(engine, 1);
    // Someone waits on it: until it is up, it is work in progress that keeps the process alive.
    const child = this.spares[0]!.child;
    child.hold();
    return child.engineReady
      .catch(() => {})
      .finally(() => {
        if (this.spares.some((s) => s.child === child)) child.park();
      });
  }

  /** Stops every spare. */
  close(): void {
    for (const spare of [...this.spares]) this.drop(spare);
  }

  /** Spares that ended, or were started for other engine settings, serve no check. */
  private dropUnusable(engine: AdmissionEngineRequest): void {
    for (const spare of this.spares.filter((s) => !s.child.alive || !sameEngine(s.child.engine, engine))) this.drop(spare);
  }

  private topUp(engine: AdmissionEngineRequest, count: number): void {
    while (this.spares.length < count) {
      const child = new AdmissionChild(engine);
      const spare = { child, timer: setTimeout(() => this.drop(spare), SPARE_IDLE_MS) };
      spare.timer.unref();
      this.spares.push(spare);
    }
  }

  private drop(spare: { child: AdmissionChild; timer: NodeJS.Timeout }): void {
    clearTimeout(spare.timer);
    spare.child.kill('idle');
    this.spares = this.spares.filter((s) => s !== spare);
  }
}

function sameEngine(a: AdmissionEngineRequest, b: AdmissionEngineRequest): boolean {
  return a.gpu === b.gpu && a.threads === b.threads;
}
