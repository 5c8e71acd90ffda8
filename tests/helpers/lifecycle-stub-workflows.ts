/**
 * Workflows for tests/integration/lifecycle-progress.test.ts: the real `lifecycle` beside stand-in
 * stage children with the real children's names (the lifecycle starts them by function reference,
 * whose workflow type is the function's name). Ingest takes one second of workflow time; the dataset
 * child waits for `finishStage`, so the test can read the parent's progress while a stage runs.
 */
import { condition, defineSignal, setHandler, sleep, uuid4 } from '@temporalio/workflow';
import type {
  ArtifactRef,
  BuildDatasetInput,
  BuildDatasetResult,
  EvaluateFleetInput,
  EvaluateFleetResult,
  IngestInput,
  IngestManifest,
  PublishRoutingTableInput,
  PublishRoutingTableResult,
  TrainFleetInput,
  TrainFleetResult,
} from '../../schemas/generated/types';

export { lifecycle } from '../../workflows/lifecycle';

export const finishStage = defineSignal('finishStage');

/** A ref unique to this run, so the stage cache never serves an earlier run's result. */
function freshRef(): ArtifactRef {
  return { sha256: `${uuid4().replaceAll('-', '')}${'0'.repeat(32)}`, bytes: 1, media_type: 'application/json' };
}

export async function ingestDocuments(input: IngestInput): Promise<IngestManifest> {
  await sleep(1000);
  return { entries: input.sources.map((source) => ({ source, ok: true, document: freshRef() })), ok: input.sources.length, failed: 0 };
}

export async function buildDataset(_input: BuildDatasetInput): Promise<BuildDatasetResult> {
  let finished = false;
  setHandler(finishStage, () => void (finished = true));
  await condition(() => finished);
  const counts = { generated: 1, accepted: 1, rejected_by_reason: {}, failed_by_error: {} };
  return { dataset: freshRef(), version: `ds-${uuid4()}`, counts, chunks: 1, reused_chunks: 0 };
}

export async function trainFleet(input: TrainFleetInput): Promise<TrainFleetResult> {
  return { dataset: input.dataset, data: {} as TrainFleetResult['data'], runs: [] };
}

export async function evaluateFleet(_input: EvaluateFleetInput): Promise<EvaluateFleetResult> {
  return { perf_index: freshRef(), version: `pi-${uuid4()}`, clusters: 1, cells: 1, missing_cells: 0 };
}

export async function publishRoutingTable(_input: PublishRoutingTableInput): Promise<PublishRoutingTableResult> {
  return { table: freshRef(), version: `rt-${uuid4()}`, published: true, decision: 'first_table', candidate: {} as PublishRoutingTableResult['candidate'] };
}
