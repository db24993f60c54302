/** Public surface of the SAE package: canonical types, loaders, the torch file reader/writer, reference math. */
export type { Sae, SaeKind, SaeSet, Submodule } from './types';
export { identitySae, identitySaeSet } from './identity';
export { loadAutoEncoder, saeFromAutoEncoderState, type AeLoadOptions } from './dictionary-learning';
export { hookToSubmodule, loadSaelensSae, readSaelensCfg, submoduleToHook, type SaelensCfg, type SaelensLoadOptions, type SaelensLoadResult } from './saelens';
export {
  detectSaeLayout, dictionaryLearningFolder, dictionaryLearningLayout, loadSaeSet, SAE_LAYOUTS, saelensLayout, standardSubmodules,
  type LoadSaeSetOptions, type SaeLayout, type SaeLayoutPlan,
} from './load';
export { decodeRef, encodeDenseRef, encodeRef, saeQuality, type SaeQuality, type SparseFeatures } from './encode-ref';
export { DECODER_NORM_TOLERANCE, decoderRowNorms, normalizeDecoder, type SaeLoadResult } from './sae-util';
export { bufferSource, fileSource, loadTorchObject, openZip, readTorchFile, readTorchStateDict, type ByteSource, type TorchTensor } from './torch-zip';
export { torchSaveBytes, writeTorchFile, type TensorIn } from './write-torch';
