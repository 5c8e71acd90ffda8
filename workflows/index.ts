/** Every workflow type the Node worker serves on llmloop-cpu. Deterministic code only. */
export { healthCheck } from './health-check';
export { ingestDocuments } from './ingest-documents';
export { buildDataset, datasetProgressQuery, generateDatasetChunks, reviewDatasetBatchUpdate } from './build-dataset';
export { publishRoutingTable, publicationStageQuery, decidePublicationUpdate } from './publish-routing-table';
export { trainModel, trainingStageQuery } from './train-model';
export { trainFleet } from './train-fleet';
export { evaluateFleet, evaluateFleetProgressQuery } from './evaluate-fleet';
export { lifecycle } from './lifecycle';
export { collectFeedback, scheduledRetraining } from './scheduled-retraining';
