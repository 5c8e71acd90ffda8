/**
 * The closed loop as one durable process: documents in, a published routing table out.
 * Each stage is a child workflow with its own history, progress query and retry policies;
 * this parent only carries artifact refs between them.
 */
import {
  CancellationScope,
  condition,
  defineQuery,
  defineUpdate,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import type * as activities from '../activities';
import type {
  ApprovePublishRequest,
  ArtifactRef,
  CancelLifecycleRequest,
  EvalCandidate,
  LifecycleArtifacts,
  LifecycleInput,
  LifecycleProgress,
  LifecycleResult,
  LifecycleStage,
  PublishRoutingTableInput,
  PublishRoutingTableResult,
  StageProgress,
} from '../schemas/generated/types';
import { SEARCH_ATTRIBUTE_TYPES } from '../schemas/generated/constants';
import { buildDataset } from './build-dataset';
import { evaluateFleet } from './evaluate-fleet';
import { ingestDocuments } from './ingest-documents';
import { publishRoutingTable } from './publish-routing-table';
import { trainFleet } from './train-fleet';
import { checked } from './validation';

/** A search attribute of schemas/constants.json (which dev servers register): a name not there does not compile. */
function searchAttribute<Name extends keyof typeof SEARCH_ATTRIBUTE_TYPES>(name: Name) {
  return defineSearchAttributeKey(name, SEARCH_ATTRIBUTE_TYPES[name]);
}
export const LlmloopStage = searchAttribute('LlmloopStage');
export const DatasetVersion = searchAttribute('DatasetVersion');
export const RoutingTableVersion = searchAttribute('RoutingTableVersion');

export const progressQuery = defineQuery<LifecycleProgress>('progress');
export const cancelUpdate = defineUpdate<void, [CancelLifecycleRequest]>('cancel');
export const approvePublishUpdate = defineUpdate<void, [ApprovePublishRequest]>('approvePublish');

const { lookupStageResult, recordStageResult } = proxyActivities<typeof activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5 },
});

const PIPELINE: Exclude<LifecycleStage, 'done' | 'cancelled'>[] = ['ingest', 'dataset', 'train', 'evaluate', 'publish'];
/** The stage workflows' own progress queries, which `llmloop status` shows beside the parent's. */
const CHILD_PROGRESS_QUERY: Partial<Record<(typeof PIPELINE)[number], string>> = {
  dataset: 'datasetProgress',
  evaluate: 'evaluateFleetProgress',
  publish: 'publicationStage',
};
/** Rough share of wall time per stage, for the ETA before real durations are known. */
const STAGE_WEIGHT: Record<(typeof PIPELINE)[number], number> = { ingest: 0.05, dataset: 0.2, train: 0.5, evaluate: 0.2, publish: 0.05 };

class CancelledByUser extends Error {}

export async function lifecycle(rawInput: LifecycleInput): Promise<LifecycleResult> {
  const input = checked('LifecycleInput', rawInput);
  const { workflowId } = workflowInfo();
  const startedAt = Date.now();
  const artifacts: LifecycleArtifacts = {};
  const stages: StageProgress[] = PIPELINE.map((stage) => ({ stage, status: 'pending' }));
  let current: LifecycleStage = 'ingest';
  let cancelReason: string | undefined;
  let approval: ApprovePublishRequest | undefined;
  let awaitingApproval = false;
  // Set when a stage finishes, from workflow time: a query handler's clock stands still between workflow tasks.
  let etaS: number | undefined;
  const scope = new CancellationScope();

  setHandler(progressQuery, () => ({
    stage: current,
    stages,
    started_at: new Date(startedAt).toISOString(),
    ...(etaS !== undefined ? { eta_s: etaS } : {}),
    artifacts,
    awaiting_approval: awaitingApproval,
  }));
  setHandler(
    cancelUpdate,
    (request) => {
      cancelReason = request.reason;
      scope.cancel();
    },
    {
      validator: (request) => {
        checked('CancelLifecycleRequest', request);
        if (current === 'done' || current === 'cancelled') throw new Error(`the lifecycle is already ${current}`);
      },
    },
  );
  setHandler(
    approvePublishUpdate,
    (request) => {
      approval = request;
    },
    {
      validator: (request) => {
        checked('ApprovePublishRequest', request);
        if (!awaitingApproval) throw new Error('no routing table is waiting for approval');
      },
    },
  );

  /** Runs one stage as a child workflow, reusing a finished result for the same inputs. */
  async function stage<I, O>(name: (typeof PIPELINE)[number], workflow: (input: I) => Promise<O>, childInput: NoInfer<I>, cacheable: boolean): Promise<O> {
    const entry = stages.find((s) => s.stage === name)!;
    current = name;
    upsertSearchAttributes([{ key: LlmloopStage, value: name }]);
    entry.started_at = new Date().toISOString();
    entry.status = 'running';
    // The workflow type is the function's name, as executeChild derives it: cached results keep their keys.
    const key = { stage: name, workflow_type: workflow.name, input: childInput };
    if (cacheable) {
      const cached = await lookupStageResult(key);
      if (cached !== null) {
        finish(entry, 'reused');
        return cached as O;
      }
    }
    entry.workflow_id = `${workflowId}/${name}`;
    const query = CHILD_PROGRESS_QUERY[name];
    if (query) entry.progress_query = query;
    const result = await scope.run(() => executeChild(workflow, { workflowId: entry.workflow_id!, args: [childInput] }));
    if (cacheable) await recordStageResult({ ...key, result });
    finish(entry, 'done');
    return result;
  }

  function finish(entry: StageProgress, status: 'done' | 'reused'): void {
    entry.status = status;
    entry.finished_at = new Date().toISOString();
    etaS = remainingSeconds(stages, (Date.now() - startedAt) / 1000);
  }

  try {
    const ingest = await stage(
      'ingest',
      ingestDocuments,
      { sources: input.sources, ...(input.password ? { password: input.password } : {}), ...(input.limits ? { limits: input.limits } : {}) },
      false,
    );
    const documents = ingest.entries.flatMap((e) => (e.ok && e.document ? [e.document] : []));
    artifacts.documents = documents;
    setCounts(stages, 'ingest', ingest.ok, ingest.entries.length);
    const ingestSummary = {
      ok: ingest.ok,
      failed: ingest.failed,
      failures: ingest.entries.filter((e) => !e.ok).map((e) => ({ source: e.source.path ?? e.source.name ?? e.source.artifact?.sha256, error: e.error })),
    };
    if (documents.length === 0) {
      throw new Error(`none of the ${ingest.entries.length} sources could be parsed`);
    }

    const dataset = await stage(
      'dataset',
      buildDataset,
      {
        documents: documents as [ArtifactRef, ...ArtifactRef[]],
        ...(input.dataset ? { config: input.dataset } : {}),
        ...(input.extra_samples ? { feedback_tasks: input.extra_samples } : {}),
      },
      true,
    );
    artifacts.dataset = dataset.dataset;
    artifacts.dataset_version = dataset.version;
    setCounts(stages, 'dataset', dataset.counts.accepted, dataset.counts.generated);
    upsertSearchAttributes([{ key: DatasetVersion, value: dataset.version }]);

    const fleet = await stage(
      'train',
      trainFleet,
      { dataset: dataset.dataset, models: input.models, ...input.training },
      true,
    );
    artifacts.adapters = fleet.runs.map((run) => ({
      model_id: run.model_id,
      recipe: run.recipe,
      ...(run.result ? { adapter: run.result.adapter, manifest: run.result.manifest } : {}),
      ...(run.error ? { error: `${run.error.type}: ${run.error.message}` } : {}),
    }));
    setCounts(stages, 'train', fleet.runs.filter((r) => r.status === 'ok').length, fleet.runs.length);

    const candidates: EvalCandidate[] = [
      ...(input.evaluate_base_models === false ? [] : uniqueModelIds(input.models).map((model_id) => ({ model_id }))),
      ...fleet.runs.flatMap((run) => (run.result ? [{ model_id: run.model_id, adapter: run.result.adapter, name: `${run.model_id}+${run.recipe}` }] : [])),
    ];
    if (candidates.length === 0) throw new Error('no model to evaluate: every training run failed and base models are excluded');
    // The index scores answers with the first reward model the fleet trained, when one was.
    const [rewardModel] = fleet.runs.flatMap((run) => (run.result?.reward_model ? [{ model_id: run.model_id, adapter: run.result.reward_model }] : []));
    const evaluation = await stage(
      'evaluate',
      evaluateFleet,
      {
        dataset: dataset.dataset,
        candidates: candidates as [EvalCandidate, ...EvalCandidate[]],
        ...(input.gpu_class ? { gpu_class: input.gpu_class } : {}),
        ...(rewardModel ? { reward_model: rewardModel } : {}),
        ...input.evaluation,
      },
      true,
    );
    artifacts.perf_index = evaluation.perf_index;
    artifacts.perf_index_version = evaluation.version;
    setCounts(stages, 'evaluate', evaluation.cells - evaluation.missing_cells, evaluation.cells);

    const publishInput: PublishRoutingTableInput = {
      perf_index: evaluation.perf_index,
      ...(input.constraints ? { defaults: input.constraints } : {}),
      ...(input.publish?.margin !== undefined ? { margin: input.publish.margin } : {}),
      // The lifecycle waits for approvePublish itself (durably, with its own timeout), so the child does not.
      approval_timeout_s: 1,
    };
    let publication = await stage('publish', publishRoutingTable, publishInput, false);
    if (publication.decision === 'approval_timed_out') publication = await awaitApprovalThenPublish(publishInput);
    const live = publication.published || publication.decision === 'same_as_champion';
    artifacts.routing_table = publication.table;
    artifacts.routing_table_version = publication.version;
    if (live) upsertSearchAttributes([{ key: RoutingTableVersion, value: publication.version }]);

    current = 'done';
    upsertSearchAttributes([{ key: LlmloopStage, value: 'done' }]);
    return checked('LifecycleResult', {
      status: live ? 'published' : 'not_published',
      publication: publication.decision,
      ingest: ingestSummary,
      artifacts,
    });
  } catch (err) {
    if (cancelReason !== undefined && (isCancellation(err) || err instanceof CancelledByUser)) {
      for (const s of stages) if (s.status === 'running' || s.status === 'pending') s.status = 'cancelled';
      current = 'cancelled';
      upsertSearchAttributes([{ key: LlmloopStage, value: 'cancelled' }]);
      return checked('LifecycleResult', { status: 'cancelled', cancel_reason: cancelReason, ingest: { ok: 0, failed: 0 }, artifacts });
    }
    throw err;
  }

  /**
   * The new table is worse than the champion: wait (durably, up to the policy's timeout) for a
   * person's approvePublish, then ask publishRoutingTable again with that decision attached.
   */
  async function awaitApprovalThenPublish(publishInput: PublishRoutingTableInput): Promise<PublishRoutingTableResult> {
    awaitingApproval = true;
    const timeoutS = input.publish?.approval_timeout_s ?? 86_400;
    const decided = await condition(() => approval !== undefined || cancelReason !== undefined, timeoutS * 1000);
    awaitingApproval = false;
    if (cancelReason !== undefined) throw new CancelledByUser();
    const entry = stages.find((s) => s.stage === 'publish')!;
    entry.workflow_id = `${workflowId}/publish-approved`;
    const decision = decided && approval ? approval : { approve: false, by: 'lifecycle', reason: `no approval within ${timeoutS} s` };
    return scope.run(() =>
      executeChild(publishRoutingTable, {
        workflowId: entry.workflow_id!,
        args: [{ ...publishInput, approval: decision }],
      }),
    );
  }
}

function uniqueModelIds(models: LifecycleInput['models']): string[] {
  return [...new Set(models.map((m) => m.model_id))];
}

function setCounts(stages: StageProgress[], name: LifecycleStage, done: number, total: number): void {
  const entry = stages.find((s) => s.stage === name)!;
  entry.done = done;
  entry.total = total;
}

/** Seconds left from the time spent so far and the finished share of the pipeline (weighted by typical stage cost); none once all finished. */
function remainingSeconds(stages: StageProgress[], elapsedS: number): number | undefined {
  const finishedWeight = stages
    .filter((s) => s.status === 'done' || s.status === 'reused')
    .reduce((sum, s) => sum + STAGE_WEIGHT[s.stage as (typeof PIPELINE)[number]], 0);
  if (finishedWeight === 0 || finishedWeight >= 1) return undefined;
  return Math.round((elapsedS / finishedWeight) * (1 - finishedWeight));
}
