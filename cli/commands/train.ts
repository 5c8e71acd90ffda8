import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { LocalArtifactStore } from '../../core/artifacts';
import { loadCatalog, placeTraining } from '../../core/catalog';
import { TASK_QUEUE_CPU } from '../../core/config';
import { TypedError } from '../../core/errors';
import { validate } from '../../core/schemas';
import { connectClient } from '../../core/temporal';
import type { FleetMember, StageHyperparameters, TrainingStage, TrainModelInput } from '../../schemas/generated/types';
import { verbCommand } from '../command';
import { numberFlag } from '../flags';

const USAGE = `llmloop train catalog
llmloop train model --model ID --sft FILE.jsonl [--preference FILE.jsonl] [--grpo FILE.jsonl] [options]
llmloop train fleet --dataset MANIFEST.json --models ID:RECIPE,... [options]

catalog: every model of config/models.json ($LLMLOOP_MODEL_CATALOG) and the GPU class each recipe is placed on.
model:   stores the JSONL exports in the artifact store and runs the trainModel workflow; prints its result.
fleet:   stores the dataset manifest (from \`llmloop dataset build\`) and runs trainFleet over the models.
Options (model, fleet):
  --recipe lora|qlora     (model; default lora)
  --stages LIST           comma-separated sft,reward,grpo (default sft)
  --gpu-class CLASS       (model) force a GPU class instead of the smallest that fits
  --max-steps N           optimizer steps of every stage (default 100)
  --checkpoint-every N    steps between checkpoints (default 50)
A Node worker and a Python worker for the chosen GPU class (python -m trainers.worker) must be running.`;

export const trainCommand = verbCommand({
  name: 'train',
  summary: 'fine-tune catalog models: train catalog | train model | train fleet (trainModel/trainFleet workflows)',
  usage: USAGE,
  verbs: { catalog: () => printCatalog(), model: trainOne, fleet: trainMany },
});

function printCatalog(): number {
  const catalog = loadCatalog();
  for (const model of catalog.models) {
    const placements = model.recipes.map((recipe) => {
      try {
        return `${recipe}→${placeTraining(catalog, { model_id: model.id, recipe }).gpu_class}`;
      } catch (err) {
        return `${recipe}→refused (${(err as TypedError).type})`;
      }
    });
    console.log(`${model.id.padEnd(24)} ${String(model.params_b).padStart(6)}B  ${placements.join('  ')}`);
  }
  return 0;
}

const SHARED_OPTIONS = {
  stages: { type: 'string' },
  'max-steps': { type: 'string' },
  'checkpoint-every': { type: 'string' },
} as const;

function sharedInput(values: { stages?: string; 'max-steps'?: string; 'checkpoint-every'?: string }): { stages?: TrainingStage[]; hyperparameters?: StageHyperparameters } {
  const stages = values.stages?.split(',').map((s) => s.trim()) as TrainingStage[] | undefined;
  const hp = {
    ...(values['max-steps'] ? { max_steps: numberFlag('--max-steps', values['max-steps'], { integer: true, min: 1 })! } : {}),
    ...(values['checkpoint-every'] ? { checkpoint_every: numberFlag('--checkpoint-every', values['checkpoint-every'], { integer: true, min: 1 })! } : {}),
  };
  const hasHp = Object.keys(hp).length > 0;
  return { ...(stages ? { stages } : {}), ...(hasHp ? { hyperparameters: { sft: hp, reward: hp, grpo: hp } } : {}) };
}

async function trainOne(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { model: { type: 'string' }, recipe: { type: 'string' }, sft: { type: 'string' }, preference: { type: 'string' }, grpo: { type: 'string' }, 'gpu-class': { type: 'string' }, ...SHARED_OPTIONS },
  });
  if (!values.model || !values.sft) {
    console.error(USAGE);
    return 2;
  }
  const store = LocalArtifactStore.fromEnv();
  const input = validate('TrainModelInput', {
    model_id: values.model,
    recipe: (values.recipe ?? 'lora') as TrainModelInput['recipe'],
    data: {
      sft: await store.putFile(values.sft, 'application/jsonl'),
      ...(values.preference ? { preference: await store.putFile(values.preference, 'application/jsonl') } : {}),
      ...(values.grpo ? { grpo: await store.putFile(values.grpo, 'application/jsonl') } : {}),
    },
    ...(values['gpu-class'] ? { gpu_class: values['gpu-class'] } : {}),
    ...sharedInput(values),
  });
  const client = await connectClient();
  const workflowId = `train-${values.model}-${input.recipe}-${Date.now()}`;
  console.error(`started trainModel ${workflowId}`);
  console.log(JSON.stringify(await client.workflow.execute('trainModel', { taskQueue: TASK_QUEUE_CPU, workflowId, args: [input] }), null, 2));
  return 0;
}

async function trainMany(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { dataset: { type: 'string' }, models: { type: 'string' }, ...SHARED_OPTIONS } });
  if (!values.dataset || !values.models) {
    console.error(USAGE);
    return 2;
  }
  const models = values.models.split(',').map((pair): FleetMember => {
    const [model_id, recipe = 'lora'] = pair.trim().split(':');
    return { model_id: model_id!, recipe: recipe as FleetMember['recipe'] };
  });
  const manifest = validate('DatasetManifest', JSON.parse(await fs.readFile(values.dataset, 'utf8')));
  const input = validate('TrainFleetInput', { dataset: await LocalArtifactStore.fromEnv().putJson(manifest, 'application/json'), models, ...sharedInput(values) });
  const client = await connectClient();
  const workflowId = `train-fleet-${manifest.version}-${Date.now()}`;
  console.error(`started trainFleet ${workflowId}`);
  console.log(JSON.stringify(await client.workflow.execute('trainFleet', { taskQueue: TASK_QUEUE_CPU, workflowId, args: [input] }), null, 2));
  return 0;
}

