/**
 * Public entry of the models layer: the model service, the catalog under it and the value types
 * their callers see.
 */
export { Catalog, type CatalogOptions, type ImportOptions } from './catalog.js';
export { DEFAULT_MAX_CONCURRENT_PULLS, type TransferOptions, WAITING_FOR_PULL_SLOT } from './transfers.js';
export type { BlobUpload } from './blob-upload.js';
export type { CreateRequest, ModelCreator } from './model-creator.js';
export type { UploadedFile } from './create.js';
export type { ModelExtras, StoredMessage } from './model-extras.js';
export { capabilitiesOf, type Capability } from './capabilities.js';
export { ModelAdmission, type AdmissionRunner, type AdmissionTarget, type ModelAdmissionOptions } from './admission.js';
export { deleteRemovesModel, type DeleteAction, type DeleteOptions } from './delete.js';
export { openLocalModels, type LocalModels, type LocalModelsOptions } from './local-models.js';
export {
  ModelService,
  type ConfiguredModel,
  type ConfigureOutcome,
  type DeleteModelOptions,
  type DeleteOutcome,
  type ModelCatalog,
  type ModelEngine,
  type ModelServiceOptions,
  type ShowOutcome,
  type UnloadOutcome,
} from './model-service.js';
export type { DockerModelConfig } from './model-config.js';
export type { Model } from './model-view.js';
export type { LayerProgress, ProgressEvent, ProgressListener, TransferMode } from './progress.js';
export type { PullResult } from './pull.js';
export type { BlobUploadOptions, CatalogRegistry } from './registry-port.js';
export type { ResolvedModel } from './resolve.js';
export { SettingsService, type SettingsPatch } from './settings.js';
export type { PackageModelOptions } from './package.js';
