/** What the admission check's parent and its child process say to each other (plain JSON). */
import type { SerializedError } from '../errors.js';
import type { GpuSetting } from './protocol.js';
import type { ModelMode } from './types.js';

export interface AdmissionChildRequest {
  modelPath: string;
  mode: ModelMode;
  threads: number;
  gpu: GpuSetting;
}

/**
 * 'engine-ready' comes first, once node-llama-cpp and its binaries are up: until then a failure
 * is the engine's (the installation, the machine), not the model file's, and is never a verdict.
 */
export type AdmissionChildReply =
  | { type: 'engine-ready' }
  | { type: 'engine-failed'; error: SerializedError }
  | { type: 'verdict'; ok: true; chatWrapper: string; millis: number }
  | { type: 'verdict'; ok: false; error: SerializedError };
