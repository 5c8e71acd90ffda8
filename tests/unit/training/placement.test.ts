import { trainingDataOf } from '../../../activities/train';
import { getCatalogModel, loadCatalog, placeTraining } from '../../../core/catalog';
import { TypedError } from '../../../core/errors';
import type { DatasetManifest, ModelCatalog } from '../../../schemas/generated/types';

const catalog = loadCatalog();

function refusal(fn: () => unknown): TypedError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TypedError) return err;
    throw err;
  }
  throw new Error('expected a typed refusal');
}

describe('training placement from the catalog', () => {
  it('puts SmolLM2 LoRA on the cpu class and Qwen2.5-7B on the smallest GPU class that holds it', () => {
    expect(placeTraining(catalog, { model_id: 'smollm2-135m', recipe: 'lora' })).toMatchObject({ gpu_class: 'cpu', task_queue: 'llmloop-gpu-cpu' });
    expect(placeTraining(catalog, { model_id: 'qwen2.5-7b-instruct', recipe: 'lora' })).toMatchObject({ gpu_class: 'l4', memory_gb_needed: 22 });
    expect(placeTraining(catalog, { model_id: 'qwen2.5-32b-instruct', recipe: 'lora' })).toMatchObject({ gpu_class: 'a100-80g' });
    expect(placeTraining(catalog, { model_id: 'qwen2.5-32b-instruct', recipe: 'qlora' })).toMatchObject({ gpu_class: 'a100-40g' });
  });

  it('counts every GPU of a multi-GPU class: Llama-3-70B LoRA (160 GB) goes to 4 x 80 GB, not refused', () => {
    expect(placeTraining(catalog, { model_id: 'llama-3-70b-instruct', recipe: 'lora' })).toMatchObject({
      gpu_class: 'a100-80g-x4',
      task_queue: 'llmloop-gpu-a100-80g-x4',
      memory_gb_needed: 160,
      memory_gb_available: 320,
    });
    // A job that fits one device still goes to the smallest single-GPU class.
    expect(placeTraining(catalog, { model_id: 'llama-3-70b-instruct', recipe: 'qlora' }).gpu_class).toBe('a100-80g');
    const oneDevice: ModelCatalog = { ...catalog, gpu_classes: catalog.gpu_classes.map((c) => ({ ...c, gpu_count: 1 })) as ModelCatalog['gpu_classes'] };
    expect(refusal(() => placeTraining(oneDevice, { model_id: 'llama-3-70b-instruct', recipe: 'lora' })).type).toBe('InsufficientGpuMemory');
  });

  it('sends QLoRA only to CUDA classes', () => {
    expect(placeTraining(catalog, { model_id: 'smollm2-135m', recipe: 'qlora' }).gpu_class).toBe('l4');
    expect(refusal(() => placeTraining(catalog, { model_id: 'smollm2-135m', recipe: 'qlora', gpu_class: 'cpu' })).type).toBe('UnsupportedRecipe');
  });

  it('refuses with typed, non-retryable errors what cannot run', () => {
    const unknown = refusal(() => placeTraining(catalog, { model_id: 'gpt-17', recipe: 'lora' }));
    expect([unknown.type, unknown.nonRetryable]).toEqual(['UnknownModel', true]);
    expect(refusal(() => placeTraining(catalog, { model_id: 'smollm2-135m', recipe: 'full' })).type).toBe('UnsupportedRecipe');
    const tooBig = refusal(() => placeTraining(catalog, { model_id: 'llama-3-70b-instruct', recipe: 'lora', gpu_class: 'h200' }));
    expect([tooBig.type, tooBig.nonRetryable, tooBig.details.needed_gb, tooBig.details.available_gb]).toEqual(['InsufficientGpuMemory', true, 160, 141]);
    expect(refusal(() => placeTraining(catalog, { model_id: 'qwen2.5-14b-instruct', recipe: 'lora', gpu_class: 'l4' })).type).toBe('InsufficientGpuMemory');
    expect(refusal(() => placeTraining(catalog, { model_id: 'qwen2.5-7b-instruct', recipe: 'lora', gpu_class: 'cpu' })).type).toBe('InvalidRequest');
  });

  it('knows every model it places', () => {
    for (const model of catalog.models) expect(getCatalogModel(catalog, model.id)).toBe(model);
  });
});

describe('training data of a dataset manifest', () => {
  const ref = (n: number) => ({ sha256: String(n).repeat(64).slice(0, 64), bytes: 10, media_type: 'application/jsonl' });
  const manifest = (exports: Partial<DatasetManifest['exports'][number]>[]) => ({ version: 'ds-test', exports }) as unknown as DatasetManifest;

  it('picks the train-split TRL exports per stage, and the SFT validation split for early stopping', () => {
    const data = trainingDataOf(
      manifest([
        { format: 'trl-sft', split: 'validation', rows: 3, artifact: ref(1) },
        { format: 'trl-sft', split: 'train', rows: 9, artifact: ref(2) },
        { format: 'trl-preference', split: 'train', rows: 4, artifact: ref(3) },
        { format: 'trl-grpo', split: 'train', rows: 5, artifact: ref(4) },
        { format: 'llamafactory-alpaca', split: 'train', rows: 9, artifact: ref(5) },
      ]),
    );
    expect(data).toEqual({ sft: ref(2), sft_validation: ref(1), preference: ref(3), grpo: ref(4) });
  });

  it('is an EmptyDataset without a non-empty SFT export', () => {
    expect(refusal(() => trainingDataOf(manifest([{ format: 'trl-sft', split: 'train', rows: 0, artifact: ref(1) }]))).type).toBe('EmptyDataset');
  });
});
