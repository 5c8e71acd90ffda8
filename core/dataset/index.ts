/** Dataset stage: parsed documents -> instruction datasets (see docs/dataset.md). */
export { buildDatasetLocally, finalizeDataset, planFromDocuments, countOutcomes, writeFiles, type DocumentInput, type FinalizedDataset, type LocalBuildOptions } from './build';
export { DEFAULT_BUILD_CONFIG, loadStyleGuide, resolveBuildConfig } from './config';
export { chunkDocument } from './chunk';
export { parseFeedbackJsonl, type FeedbackBatch } from './feedback-chunks';
export type { Chunk, DatasetPlanContent } from './types';
export { NearDuplicateIndex } from './minhash';
export { assignSplits } from './split';
export { teacherFromConfig } from './teacher-client';
