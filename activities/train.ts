/** Node activities of the training stage: placement from the catalog, and the dataset's TRL exports. */
import { artifactStoreFromEnv } from '../core/artifacts';
import { loadCatalog, placeTraining } from '../core/catalog';
import { TypedError } from '../core/errors';
import { validate } from '../core/schemas';
import type { ArtifactRef, DatasetManifest, TrainingData, TrainingPlacement, TrainingPlacementRequest } from '../schemas/generated/types';
import { typedActivity } from './failures';

/** Which GPU-class queue a training job goes to; typed refusals for what cannot run anywhere. */
export async function planTraining(request: TrainingPlacementRequest): Promise<TrainingPlacement> {
  return typedActivity(async () => validate('TrainingPlacement', placeTraining(loadCatalog(), validate('TrainingPlacementRequest', request))));
}

/** The training-split TRL exports of a dataset manifest, one per stage (SFT is required), and the SFT validation split for early stopping. */
export function trainingDataOf(manifest: DatasetManifest): TrainingData {
  const pick = (format: string): ArtifactRef | undefined =>
    manifest.exports.find((e) => e.format === format && e.rows > 0 && (e.split === undefined || e.split === 'train'))?.artifact;
  const sft = pick('trl-sft');
  if (!sft) throw new TypedError('EmptyDataset', `dataset ${manifest.version} has no non-empty TRL SFT export for the train split`);
  const preference = pick('trl-preference');
  const grpo = pick('trl-grpo');
  const sftValidation = manifest.exports.find((e) => e.format === 'trl-sft' && e.rows > 0 && e.split === 'validation')?.artifact;
  return { sft, ...(sftValidation ? { sft_validation: sftValidation } : {}), ...(preference ? { preference } : {}), ...(grpo ? { grpo } : {}) };
}

export async function resolveTrainingData(datasetManifest: ArtifactRef): Promise<TrainingData> {
  return typedActivity(async () => {
    const manifest = validate('DatasetManifest', await artifactStoreFromEnv().getJson(datasetManifest));
    return validate('TrainingData', trainingDataOf(manifest));
  });
}
