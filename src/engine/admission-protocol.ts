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

export type AdmissionChildReply =
  | { ok: true; chatWrapper: string; millis: number }
  | { ok: false; error: SerializedError };
