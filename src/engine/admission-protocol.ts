/** What the admission check's parent and its child process say to each other (plain JSON). */
import type { SerializedError } from '../errors.js';
import type { GpuSetting } from './protocol.js';
import type { ModelMode } from './types.js';

/** How the child starts its engine: passed as JSON in argv[2], before any model is known. */
export interface AdmissionEngineRequest {
  threads: number;
  gpu: GpuSetting;
}

/** The one model a child checks, sent once its engine is up; the child ends after the verdict. */
export interface AdmissionCheckRequest {
  type: 'check';
  modelPath: string;
  mode: ModelMode;
}

/**
 * 'engine-ready' comes first, once node-llama-cpp and its binaries are up: until then a failure
 * is the engine's (the installation, the machine), not the model file's, and is never a verdict.
 */
export type AdmissionChildReply =
  | { type: 'engine-ready' }
  | { type: 'engine-failed'; error: SerializedError }
  | { type: 'verdict'; ok: true; chatWrapper: string; chatWrapperType?: string; millis: number }
  | { type: 'verdict'; ok: false; error: SerializedError };
