/**
 * The model catalog (config/models.json, schema schemas/model-catalog.schema.json) and where a
 * training job may run. The file and its override variable come from schemas/constants.json, as in
 * trainers/catalog.py.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_MODEL_CATALOG_PATH, MODEL_CATALOG_ENV_VAR } from '../schemas/generated/constants';
import { REPO_ROOT, gpuTaskQueue } from './config';
import { TypedError } from './errors';
import { validate } from './schemas';
import type { CatalogModel, GpuClass, ModelCatalog, TrainingPlacement, TrainingPlacementRequest } from '../schemas/generated/types';

export function catalogPath(env: NodeJS.ProcessEnv = process.env): string {
  return env[MODEL_CATALOG_ENV_VAR] || path.join(REPO_ROOT, DEFAULT_MODEL_CATALOG_PATH);
}

export function loadCatalog(file: string = catalogPath()): ModelCatalog {
  return validate('ModelCatalog', JSON.parse(fs.readFileSync(file, 'utf8')));
}

export function getCatalogModel(catalog: ModelCatalog, modelId: string): CatalogModel {
  const model = catalog.models.find((m) => m.id === modelId);
  if (!model) {
    throw new TypedError('UnknownModel', `model ${JSON.stringify(modelId)} is not in the catalog (${catalog.models.map((m) => m.id).join(', ')})`, { model_id: modelId });
  }
  return model;
}

/** Memory one worker of the class trains with: one device's, times the devices it shards the job across. */
export function classMemoryGb(gpuClass: GpuClass): number {
  return gpuClass.memory_gb * gpuClass.gpu_count;
}

/**
 * The GPU class (and its queue) a training job goes to: the requested class, or else the first
 * catalog class, smallest first, that the model allows and whose total memory (all of its GPUs: a
 * multi-GPU worker shards the job with FSDP) holds the recipe's estimate.
 * Refuses before any compute what cannot run: an unknown model, a recipe the model or class
 * cannot do (QLoRA needs CUDA), or a job no allowed class has memory for.
 */
export function placeTraining(catalog: ModelCatalog, request: TrainingPlacementRequest): TrainingPlacement {
  const model = getCatalogModel(catalog, request.model_id);
  const recipe = request.recipe;
  if (!(model.recipes as string[]).includes(recipe) || !(recipe === 'lora' || recipe === 'qlora')) {
    throw new TypedError('UnsupportedRecipe', `${model.id} does not support recipe ${recipe} (catalog allows ${model.recipes.join(', ')})`, { model_id: model.id, recipe });
  }
  const needed = model.memory_gb[recipe];
  if (needed === undefined) {
    throw new TypedError('UnsupportedRecipe', `${model.id} has no memory estimate for ${recipe}`, { model_id: model.id, recipe });
  }
  if (request.gpu_class !== undefined && !model.gpu_classes.includes(request.gpu_class)) {
    throw new TypedError('InvalidRequest', `${model.id} may not be placed on GPU class ${request.gpu_class} (allowed: ${model.gpu_classes.join(', ')})`, { model_id: model.id, gpu_class: request.gpu_class });
  }
  const candidates = catalog.gpu_classes.filter((c) => (request.gpu_class === undefined ? model.gpu_classes.includes(c.id) : c.id === request.gpu_class));
  const runnable = candidates.filter((c) => recipe !== 'qlora' || c.cuda);
  if (runnable.length === 0) {
    throw new TypedError('UnsupportedRecipe', `qlora needs a CUDA GPU class; ${candidates.map((c) => c.id).join(', ')} has none`, { model_id: model.id, recipe });
  }
  const fitting = runnable.find((c) => classMemoryGb(c) >= needed);
  if (!fitting) {
    const largest = Math.max(...runnable.map(classMemoryGb));
    throw new TypedError('InsufficientGpuMemory', `${model.id} ${recipe} needs about ${needed} GB; the largest allowed GPU class has ${largest} GB in all`, {
      model_id: model.id,
      recipe,
      needed_gb: needed,
      available_gb: largest,
    });
  }
  return { model_id: model.id, recipe, gpu_class: fitting.id, task_queue: gpuTaskQueue(fitting.id), memory_gb_needed: needed, memory_gb_available: classMemoryGb(fitting) };
}
