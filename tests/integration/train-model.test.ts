/**
 * trainModel on a real dev server with real worker processes (core/stack's, as in production and
 * `make chaos`) training SmolLM2-135M on CPU: typed refusals before compute; the Node worker and
 * the Python worker SIGKILLed mid-training, the run resuming from its checkpoint with the same
 * adapter as an undisturbed run (make test's short fault check; make chaos does it to whole
 * lifecycles); cancellation stopping the trainer at the next step.
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, CancelledFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { describeTraining } from '../../cli/training-progress';
import { artifactStoreFromEnv } from '../../core/artifacts';
import { TASK_QUEUE_CPU } from '../../core/config';
import { schemaProblems } from '../../core/schemas';
import { crashAndRestartNodeWorker, crashAndRestartPythonWorker, pythonWorkerService, startLocalStack, type LocalStack } from '../../core/stack';
import type { ArtifactRef, RunManifest, TrainModelInput, TrainModelResult, TrainProgress } from '../../schemas/generated/types';
import { trainModel } from '../../workflows';
import { recordHistory } from '../helpers/histories';
import { testClient } from '../helpers/temporal';

jest.setTimeout(600_000);

const QUEUE = 'llmloop-gpu-cpu';
const CODEWORDS = ['zebrafruit', 'moonlamp', 'copperowl', 'glasstide'];
// One torch thread: on two shared cores, two OpenMP threads spin against each other (10x slower steps).
const FAST = { batch_size: 2, max_length: 64, threads: 1, learning_rate: 1e-3 };

describe('trainModel on a real Temporal dev server, Node worker and Python worker', () => {
  let stack: LocalStack;
  let sft: ArtifactRef;
  beforeAll(async () => {
    stack = await startLocalStack({ gpuClass: 'cpu' });
    const rows = CODEWORDS.map((word, i) => JSON.stringify({ prompt: `Codeword ${i}?`, completion: `The codeword ${i} is ${word}.` }));
    sft = await artifactStoreFromEnv().put(rows.join('\n'), 'application/jsonl');
  });
  afterAll(async () => {
    await stack?.stop();
  });
  const pythonOutput = () => stack.services.find((s) => s.name === pythonWorkerService('cpu'))!.output();

  async function start(input: Omit<TrainModelInput, 'model_id' | 'recipe' | 'data'> & Partial<TrainModelInput>): Promise<WorkflowHandle<typeof trainModel>> {
    const client = await testClient();
    return client.workflow.start(trainModel, {
      taskQueue: TASK_QUEUE_CPU,
      workflowId: `train-test-${randomUUID()}`,
      args: [{ model_id: 'smollm2-135m', recipe: 'lora', data: { sft }, heartbeat_timeout_seconds: 30, ...input }],
    });
  }

  /** The latest heartbeat of the workflow's running activity, once `ready` holds for it. */
  async function waitForProgress(handle: WorkflowHandle, ready: (p: TrainProgress) => boolean): Promise<TrainProgress> {
    for (;;) {
      const { raw } = await handle.describe();
      const payload = raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
      const progress = payload ? defaultPayloadConverter.fromPayload<TrainProgress>(payload as Payload) : undefined;
      if (progress && ready(progress)) return progress;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  async function failureOf(input: Parameters<typeof start>[0]): Promise<ApplicationFailure> {
    const handle = await start(input);
    const failure = await handle.result().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    let cause = (failure as WorkflowFailedError).cause;
    if (cause instanceof ActivityFailure) cause = cause.cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    return cause as ApplicationFailure;
  }

  it('refuses unknown models, impossible recipes, jobs no GPU class fits and empty datasets, typed and before compute', async () => {
    expect((await failureOf({ model_id: 'gpt-17' })).type).toBe('UnknownModel');
    expect((await failureOf({ recipe: 'qlora', gpu_class: 'cpu' })).type).toBe('UnsupportedRecipe');
    // Llama-3-70B LoRA (160 GB) fits a multi-GPU class; on one H200 (141 GB) it does not.
    const tooBig = await failureOf({ model_id: 'llama-3-70b-instruct', recipe: 'lora', gpu_class: 'h200' });
    expect(tooBig.type).toBe('InsufficientGpuMemory');
    expect(tooBig.nonRetryable).toBe(true);
    const empty = await artifactStoreFromEnv().put('', 'application/jsonl');
    const emptyFailure = await failureOf({ data: { sft: empty } });
    expect(emptyFailure.type).toBe('EmptyDataset');
    expect(emptyFailure.nonRetryable).toBe(true);
  });

  /** The adapter's weights (the config files are written from the job itself) and the losses, step by step. */
  async function trained(result: TrainModelResult) {
    const store = artifactStoreFromEnv();
    const manifest = await store.getJson<RunManifest>(result.manifest);
    const tree = await store.getJson<{ files: { path: string; sha256: string }[] }>(result.adapter);
    return {
      weights: tree.files.find((f) => f.path === 'adapter_model.safetensors')?.sha256,
      steps: result.runs[0]!.steps,
      losses: manifest.metrics.filter((m) => m.loss !== undefined).map((m) => [m.step, m.loss]),
    };
  }

  it('resumes from the last checkpoint after the Node and Python workers are SIGKILLed, with the adapter an undisturbed run trains', async () => {
    // Six steps, killed at the first checkpoint (step 2): on a quiet host a four-step run could finish before the kill lands.
    const input = { hyperparameters: { sft: { ...FAST, max_steps: 6, checkpoint_every: 2 } } };
    const undisturbed = await (await start(input)).result();
    const handle = await start(input);
    const before = await waitForProgress(handle, (p) => (p.checkpoint?.step ?? 0) >= 2);
    // The same calls make chaos makes: the Python worker runs the training activity (killed first, while it
    // trains), the Node worker holds this workflow.
    await crashAndRestartPythonWorker(stack);
    await crashAndRestartNodeWorker(stack);
    const final = await handle.result().catch((err: unknown) => {
      throw new Error(`${String(err)}\n--- python worker ---\n${pythonOutput().slice(-6000)}`);
    });
    await recordHistory(handle, 'train-model-resumed');
    expect(schemaProblems('TrainModelResult', final)).toEqual([]);
    expect(final.placement.task_queue).toBe(QUEUE);
    const [run] = final.runs;
    expect(run!.steps).toBe(6);
    expect(run!.resumed_from_step).toBeGreaterThanOrEqual(before.checkpoint!.step);
    const store = artifactStoreFromEnv();
    const manifest = await store.getJson<RunManifest>(final.manifest);
    expect(manifest.attempt).toBe(2);
    expect(manifest.metrics.filter((m) => m.loss !== undefined).map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    const tree = await store.getJson<{ files: { path: string }[] }>(final.adapter);
    expect(tree.files.map((f) => f.path)).toEqual(expect.arrayContaining(['adapter_config.json', 'adapter_model.safetensors', 'tokenizer_config.json']));
    expect(await trained(final)).toEqual(await trained(undisturbed));
  });

  it('cancellation stops the trainer at the next step boundary and the workflow ends cancelled', async () => {
    const handle = await start({ hyperparameters: { sft: { ...FAST, max_steps: 200, checkpoint_every: 200 } } });
    await waitForProgress(handle, (p) => p.step >= 1);
    // What `llmloop train` and `llmloop run` show while it trains: the activity's heartbeat, decoded.
    expect(await describeTraining(await testClient(), handle.workflowId)).toEqual([expect.stringMatching(/^train_sft training step \d+\/200\b/)]);
    await handle.cancel();
    const failure = await handle.result().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    // Temporal drops the details of a cancelled activity; the worker logs where the trainer stopped.
    const [, stoppedAt, seenAt] = /stopped at step (\d+) of 200, cancellation seen at step (\d+)/.exec(pythonOutput()) ?? [];
    const stop = { stopped_at_step: Number(stoppedAt), cancel_seen_at_step: Number(seenAt) };
    expect(stop.stopped_at_step).toBe(stop.cancel_seen_at_step);
    expect(stop.stopped_at_step).toBeLessThan(200);
  });
});
