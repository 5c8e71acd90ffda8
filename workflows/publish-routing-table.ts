import { condition, defineQuery, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';
import type * as activities from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors';
import type { PublicationDecision, PublishRoutingTableInput, PublishRoutingTableResult } from '../schemas/generated/types';
import { checked } from './validation';

const { prepareRoutingTable, publishRoutingTableVersion } = proxyActivities<typeof activities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
});

export type PublicationStage = 'evaluating' | 'awaiting_approval' | 'publishing' | 'done';
export const publicationStageQuery = defineQuery<PublicationStage>('publicationStage');
/** A person's call on a candidate that is worse than the champion; only accepted while one is awaited. */
export const decidePublicationUpdate = defineUpdate<void, [PublicationDecision]>('decidePublication');

/**
 * Build a routing table from a perf index, evaluate it and the live champion on that index, and
 * publish it when it is not worse than the champion by more than `margin` quality points;
 * otherwise wait for a decidePublication update (approve or reject) until the approval timeout.
 */
export async function publishRoutingTable(input: PublishRoutingTableInput): Promise<PublishRoutingTableResult> {
  const { perf_index, defaults = {}, router, margin = 0.01, approval_timeout_s = 86_400, approval: decidedUpFront } = checked('PublishRoutingTableInput', input);
  let stage: PublicationStage = 'evaluating';
  let approval: PublicationDecision | undefined = decidedUpFront;
  setHandler(publicationStageQuery, () => stage);
  setHandler(
    decidePublicationUpdate,
    (decision) => {
      approval = decision;
    },
    {
      validator: (decision) => {
        checked('PublicationDecision', decision);
        if (stage !== 'awaiting_approval') throw new Error(`no decision is awaited: the publication is ${stage}`);
      },
    },
  );

  const built = checked('BuiltRoutingTable', await prepareRoutingTable({ perf_index, defaults, ...(router ? { router } : {}) }));
  const champion = built.champion;
  let decision: PublishRoutingTableResult['decision'];
  if (!champion) decision = 'first_table';
  else if (champion.version === built.version) decision = 'same_as_champion';
  else if (champion.evaluation && built.evaluation.quality >= champion.evaluation.quality - margin) decision = 'not_worse_than_champion';
  else {
    // Worse than the champion, or not comparable with it (another embedding space): a person decides.
    stage = 'awaiting_approval';
    const decided = await condition(() => approval !== undefined, approval_timeout_s * 1000);
    decision = !decided ? 'approval_timed_out' : approval!.approve ? 'approved' : 'rejected';
  }

  const published = decision === 'first_table' || decision === 'not_worse_than_champion' || decision === 'approved';
  if (published) {
    stage = 'publishing';
    await publishRoutingTableVersion({ table: built.table, evaluation: built.evaluation });
  }
  stage = 'done';
  return checked('PublishRoutingTableResult', {
    table: built.table,
    version: built.version,
    published,
    decision,
    candidate: built.evaluation,
    ...(champion ? { champion_version: champion.version, ...(champion.evaluation ? { champion: champion.evaluation } : {}) } : {}),
    ...(approval ? { approval } : {}),
  });
}
