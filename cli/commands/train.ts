import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { artifactStoreFromEnv } from '../../core/artifacts';
import { loadCatalog, placeTraining } from '../../core/catalog';
import { TASK_QUEUE_CPU } from '../../core/config';
import { TypedError } from '../../core/errors';
import { validate } from '../../core/schemas';
import { connectClient } from '../../core/temporal';
import type { FleetMember, StageHyperparameters, TrainFleetInput, TrainingStage, TrainModelInput } from '../../schemas/generated/types';
import { EXIT, UsageError, verbCommand } from '../command';
import { numberFlag } from '../flags';
import { pollUntilSettled, ProgressPrinter } from '../progress';
import { describeTraining } from '../training-progress';

/** Heartbeats arrive every few seconds; polling faster would show nothing new. */
const PROGRESS_INTERVAL_MS = 2000;

const USAGE = `llmloop train catalog [--json]
llmloop train model --model ID --sft FILE.jsonl [--preference FILE.jsonl] [--grpo FILE.jsonl] [options]
llmloop train fleet --dataset MANIFEST.json --models ID:RECIPE,... [options]

catalog: every model of config/models.json ($LLMLOOP_MODEL_CATALOG) and the GPU class each recipe is placed on
         (--json: one object per model with its placements).
model:   stores the JSONL exports in the artifact store and runs the trainModel workflow; prints its result.
fleet:   stores the dataset manifest (from \`llmloop dataset build\`) and runs trainFleet over the models.
Options (model, fleet):
  --recipe lora|qlora     (model; default lora)
  --stages LIST           comma-separated sft,reward,grpo (default sft)
  --gpu-class CLASS       (model) force a GPU class instead of the smallest that fits
  --max-steps N           optimizer steps of every stage (default 100)
  --checkpoint-every N    steps between checkpoints (default 50)
  --detach                print the workflow id and return at once (follow it with \`temporal workflow
                          describe --workflow-id ID\`); otherwise step, loss, tokens/s and ETA of every
                          running model go to stderr until the run ends, and Ctrl-C leaves it running
A Node worker and a Python worker for the chosen GPU class (python -m trainers.worker) must be running.`;

export const trainCommand = verbCommand({
  name: 'train',
  summary: 'fine-tune catalog models: train catalog | train model | train fleet (trainModel/trainFleet workflows)',
  usage: USAGE,
  verbs: { catalog: printCatalog, model: trainOne, fleet: trainMany },
});

function printCatalog(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } } });
  const catalog = loadCatalog();
  const rows = catalog.models.map((model) => ({
    model_id: model.id,
    params_b: model.params_b,
    placements: Object.fromEntries(
      model.recipes.map((recipe) => {
        try {
          return [recipe, placeTraining(catalog, { model_id: model.id, recipe }).gpu_class];
        } catch (err) {
          return [recipe, `refused (${(err as TypedError).type})`];
        }
      }),
    ),
  }));
  if (values.json) {
    console.log(JSON.stringify(rows, null, 2));
    return EXIT.ok;
  }
  if (rows.length === 0) console.error('the model catalog lists no models');
  for (const row of rows) {
    const placements = Object.entries(row.placements).map(([recipe, placed]) => `${recipe}→${placed}`);
    console.log(`${row.model_id.padEnd(24)} ${String(row.params_b).padStart(6)}B  ${placements.join('  ')}`);
  }
  return EXIT.ok;
}

const SHARED_OPTIONS = {
  detach: { type: 'boolean', default: false },
  stages: { type: 'string' },
  'max-steps': { type: 'string' },
  'checkpoint-every': { type: 'string' },
} as const;

function sharedInput(values: { stages?: string; 'max-steps'?: string; 'checkpoint-every'?: string; detach?: boolean }): { stages?: TrainingStage[]; hyperparameters?: StageHyperparameters } {
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
  if (!values.model) throw new UsageError('--model ID is required');
  if (!values.sft) throw new UsageError('--sft FILE.jsonl is required');
  const store = artifactStoreFromEnv();
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
  return startTraining('trainModel', `train-${values.model}-${input.recipe}-${Date.now()}`, input, values.detach);
}

async function trainMany(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { dataset: { type: 'string' }, models: { type: 'string' }, ...SHARED_OPTIONS } });
  if (!values.dataset) throw new UsageError('--dataset MANIFEST.json is required');
  if (!values.models) throw new UsageError('--models ID:RECIPE,... is required');
  const models = values.models.split(',').map((pair): FleetMember => {
    const [model_id, recipe = 'lora'] = pair.trim().split(':');
    return { model_id: model_id!, recipe: recipe as FleetMember['recipe'] };
  });
  const manifest = validate('DatasetManifest', JSON.parse(await fs.readFile(values.dataset, 'utf8')));
  const input = validate('TrainFleetInput', { dataset: await artifactStoreFromEnv().putJson(manifest, 'application/json'), models, ...sharedInput(values) });
  return startTraining('trainFleet', `train-fleet-${manifest.version}-${Date.now()}`, input, values.detach);
}

/** Starts the run; unless detached, shows its training progress on stderr and prints its result. */
async function startTraining(workflowType: 'trainModel' | 'trainFleet', workflowId: string, input: TrainModelInput | TrainFleetInput, detach: boolean): Promise<number> {
  const client = await connectClient();
  await client.workflow.start(workflowType, { taskQueue: TASK_QUEUE_CPU, workflowId, args: [input] });
  console.error(`started ${workflowType} ${workflowId}`);
  if (detach) {
    console.log(JSON.stringify({ workflow_id: workflowId }));
    return EXIT.ok;
  }
  const printer = new ProgressPrinter(process.stderr);
  // A failed poll (no worker, a restart) leaves the last lines on screen.
  const show = () => describeTraining(client, workflowId).then((lines) => printer.print(lines.length ? lines.join('\n') : 'waiting for a worker to start training'), () => undefined);
  const result = await pollUntilSettled(client.workflow.getHandle(workflowId).result(), show, PROGRESS_INTERVAL_MS);
  console.log(JSON.stringify(result, null, 2));
  return EXIT.ok;
}

