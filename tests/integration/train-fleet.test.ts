/**
 * trainFleet on the real dataset stage's output: a parsed corpus document → buildDatasetLocally →
 * one trainModel child per model; a model no GPU class can hold fails alone, typed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { artifactStoreFromEnv } from '../../core/artifacts';
import { REPO_ROOT, TASK_QUEUE_CPU } from '../../core/config';
import { buildDatasetLocally, resolveBuildConfig } from '../../core/dataset';
import { parseDocument } from '../../core/parse';
import { schemaProblems } from '../../core/schemas';
import type { Service } from '../../core/services';
import type { RunManifest } from '../../schemas/generated/types';
import { trainFleet } from '../../workflows';
import { startPythonWorker, testClient, testNodeWorker } from '../helpers/temporal';

jest.setTimeout(600_000);

const DOCUMENT = path.join(process.env.LLMLOOP_SHARED_DIR ?? path.join(REPO_ROOT, '..', 'shared'), 'corpus', 'inputs', 'docx', 'docling-word_sample.docx');

describe('trainFleet', () => {
  let python: Service;
  beforeAll(async () => {
    python = await startPythonWorker('cpu');
  });
  afterAll(async () => {
    await python?.stop();
  });

  it('trains each fleet member on the dataset stage TRL export and reports the member refused before compute', async () => {
    const parsed = await parseDocument(await fs.readFile(DOCUMENT), { path: 'corpus/docx/docling-word_sample.docx' });
    const built = await buildDatasetLocally([{ input: 'corpus/docx/docling-word_sample.docx', value: parsed }], { config: resolveBuildConfig(), store: artifactStoreFromEnv() });
    const client = await testClient();
    const worker = await testNodeWorker();
    const result = await worker.runUntil(
      client.workflow.execute(trainFleet, {
        taskQueue: TASK_QUEUE_CPU,
        workflowId: `train-fleet-test-${randomUUID()}`,
        args: [
          {
            dataset: built.manifestRef,
            models: [
              { model_id: 'smollm2-135m', recipe: 'lora' },
              // Refused before compute, so it fails alone (Llama-3-70B LoRA was this member until multi-GPU classes could hold it).
              { model_id: 'gpt-17', recipe: 'lora' },
            ],
            hyperparameters: { sft: { max_steps: 2, batch_size: 1, max_length: 384, threads: 1, checkpoint_every: 2, eval_rows: 2 } },
            heartbeat_timeout_seconds: 60,
          },
        ],
      }),
    );
    expect(schemaProblems('TrainFleetResult', result)).toEqual([]);
    const [small, refused] = result.runs;
    expect(refused).toMatchObject({ model_id: 'gpt-17', status: 'failed', error: { type: 'UnknownModel' } });
    expect(small!.error).toBeUndefined();
    expect(small!.status).toBe('ok');
    expect(small!.result!.runs.map((r) => [r.stage, r.steps])).toEqual([['sft', 2]]);
    const manifest = await artifactStoreFromEnv().getJson<RunManifest>(small!.result!.manifest);
    expect(manifest.dataset).toEqual(result.data.sft);
    expect(manifest.dataset_manifest).toEqual(built.manifestRef);
    // The validation split's export, when the dataset has one, is what early stopping evaluates on.
    expect(manifest.eval_dataset).toEqual(result.data.sft_validation);
    expect(manifest.dataset_rows).toBe(built.manifest.exports.find((e) => e.format === 'trl-sft' && e.split === 'train')!.rows);
  });
});
