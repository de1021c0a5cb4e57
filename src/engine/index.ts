/** Public entry of the inference engine. */
export { Scheduler } from './scheduler.js';
export type { AcquireOptions, Lease, RunnerStatus, SchedulerOptions } from './scheduler-types.js';
export { createWorkerHandleFactory, bundledEngineInfo, type EngineHandles, type WorkerHandleFactoryOptions } from './handle-factory.js';
export { WorkerModelHandle } from './model-handle.js';
export type { WorkerModelHandleOptions, LoadedHandleInfo } from './model-handle-options.js';
export { DEFAULT_HANG_TIMEOUT_MS } from './process-transport.js';
export type { Isolation } from './protocol.js';
export type { HandleFactory, HandleInfo, ModelHandle, ResolvedSettings } from './handle-types.js';
export { systemClock, type Clock } from './clock.js';
export { estimateModelBytes } from './memory-estimate.js';
export { readNativeBuildChoice, NATIVE_BUILD_FILE, type NativeBuildChoice } from './worker/native-build.js';
export { ABORT_FAULT_MARKER, AWAIT_CANCEL_FAULT_MARKER, ERROR_FAULT_MARKER, EXIT_FAULT_CODE, EXIT_FAULT_MARKER, FAULT_MARKER, HOLD_FAULT_PREFIX, HOLD_LOAD_PREFIX, HANG_FAULT_MARKER, HANG_FAULT_NOTICE, HANG_MODEL_NAME, heldMarker, TEST_FAULTS_ENV } from './worker/test-faults.js';
export { runAdmissionCheck, stopAdmissionChildren, engineFingerprint, DEFAULT_ADMISSION_TIMEOUT_MS, type AdmissionCheckOptions, type AdmissionVerdict } from './admission.js';
export * from './types.js';
export { unifiedKvLibraryPresent } from './unified-kv-library.js';
