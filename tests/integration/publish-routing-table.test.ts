import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { artifactStoreFromEnv, type ArtifactStore } from '../../core/artifacts';
import { TASK_QUEUE_CPU } from '../../core/config';
import { TableStore } from '../../core/routing/store';
import { routingTableCommand } from '../../cli/commands/routing-table';
import { decidePublicationUpdate, publicationStageQuery, publishRoutingTable } from '../../workflows';
import type { PerfIndex, PublishRoutingTableInput } from '../../schemas/generated/types';
import { perfIndex, type CellSpec } from '../unit/routing/fixtures';
import { recordHistory } from '../helpers/histories';
import { testClient, testNodeWorker } from '../helpers/temporal';

jest.setTimeout(120_000);

/**
 * Two clusters. `cheapIsGood`: the small model matches the big one on cluster 0 too.
 * `withTiny`: a third, cheapest model that is bad everywhere (a lax table routes to it).
 */
function index(version: string, options: { cheapIsGood?: boolean; withTiny?: boolean } = {}): PerfIndex {
  const tiny: Record<string, CellSpec> = options.withTiny ? { tiny: { quality: 0.1, cost: 0.0001 } } : {};
  return perfIndex(
    {
      0: { big: { quality: 0.9, cost: 0.01 }, small: { quality: options.cheapIsGood ? 0.9 : 0.4, cost: 0.001 }, ...tiny },
      1: { big: { quality: 0.8, cost: 0.01 }, small: { quality: 0.79, cost: 0.001 }, ...tiny },
    },
    { version },
  );
}

describe('publishRoutingTable on a real Temporal dev server', () => {
  const originalDataDir = process.env.LLMLOOP_DATA_DIR;
  let tables: TableStore;
  let artifacts: ArtifactStore;

  beforeAll(() => {
    // A data dir of its own: the champion must be whatever this file published, nothing else.
    process.env.LLMLOOP_DATA_DIR = path.join(originalDataDir ?? path.resolve('.data'), `publish-test-${randomUUID()}`);
    artifacts = artifactStoreFromEnv();
    tables = TableStore.inDataDir(process.env.LLMLOOP_DATA_DIR, artifacts);
  });
  afterAll(() => {
    process.env.LLMLOOP_DATA_DIR = originalDataDir;
  });

  async function start(perf: PerfIndex, extra: Partial<PublishRoutingTableInput> = {}) {
    const client = await testClient();
    return client.workflow.start(publishRoutingTable, {
      taskQueue: TASK_QUEUE_CPU,
      workflowId: `publish-${perf.version}-${randomUUID()}`,
      args: [{ perf_index: await artifacts.putJson(perf), defaults: { tolerance: 0.02 }, margin: 0.01, ...extra }],
    });
  }

  async function waitForStage(handle: Awaited<ReturnType<typeof start>>, stage: string) {
    for (let i = 0; i < 100 && (await handle.query(publicationStageQuery)) !== stage; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await handle.query(publicationStageQuery)).toBe(stage);
  }

  it('publishes the first table, auto-publishes a not-worse one, holds a worse one for approval, and rolls back', async () => {
    const worker = await testNodeWorker();
    await worker.runUntil(async () => {
      const firstHandle = await start(index('pi-1'));
      const first = await firstHandle.result();
      await recordHistory(firstHandle, 'publish-routing-table-first');
      expect(first).toMatchObject({ published: true, decision: 'first_table' });
      expect((await tables.current())?.version).toBe(first.version);
      const live = await tables.loadTable((await tables.current())!);
      expect(live.clusters.map((c) => c.ranked[0])).toEqual(['big', 'small']);

      // Same measurements, cheaper choice on cluster 0 and no quality lost: published without a person.
      const better = await (await start(index('pi-2', { cheapIsGood: true }))).result();
      expect(better).toMatchObject({ published: true, decision: 'not_worse_than_champion', champion_version: first.version });
      expect(better.candidate.cost_per_request).toBeLessThan(better.champion!.cost_per_request);
      expect((await tables.current())?.version).toBe(better.version);

      // Same index again: the candidate is the champion, nothing changes.
      expect(await (await start(index('pi-2', { cheapIsGood: true }))).result()).toMatchObject({ published: false, decision: 'same_as_champion' });

      // A lax table that sends everything to the tiny model: worse than the champion re-evaluated on
      // the same index, so it waits for a person's decision.
      const lax = { defaults: { tolerance: 0.85 } };
      const worse = await start(index('pi-3', { withTiny: true }), lax);
      await waitForStage(worse, 'awaiting_approval');
      await expect(worse.executeUpdate(decidePublicationUpdate, { args: [{ approve: true, by: '', reason: 'x' }] })).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      await worse.executeUpdate(decidePublicationUpdate, { args: [{ approve: false, by: 'lead', reason: 'quality drop on cluster 0' }] });
      const rejected = await worse.result();
      await recordHistory(worse, 'publish-routing-table-rejected');
      expect(rejected).toMatchObject({ published: false, decision: 'rejected', approval: { by: 'lead' } });
      expect(rejected.candidate.quality).toBeLessThan(rejected.champion!.quality - 0.01);
      expect((await tables.current())?.version).toBe(better.version);

      const timedOut = await (await start(index('pi-3', { withTiny: true }), { ...lax, approval_timeout_s: 1 })).result();
      expect(timedOut).toMatchObject({ published: false, decision: 'approval_timed_out' });

      // A decision made up front (the lifecycle forwards one) is used instead of waiting.
      const approved = await (await start(index('pi-3', { withTiny: true }), { ...lax, approval: { approve: true, by: 'lead', reason: 'cost matters more this quarter' } })).result();
      expect(approved).toMatchObject({ published: true, decision: 'approved', approval: { by: 'lead' } });
      expect((await tables.current())?.version).toBe(rejected.version);

      // Rollback to the first version is one command.
      expect(await routingTableCommand.run(['rollback', '--to', first.version])).toBe(0);
      expect((await tables.current())?.version).toBe(first.version);
      expect((await tables.list()).map((r) => r.version)).toEqual([first.version, better.version, rejected.version]);
      expect((await tables.history()).map((e) => e.event)).toEqual(['publish', 'publish', 'publish', 'rollback']);
    });
  });

  it('fails fast, without retries, on a perf index that does not match its schema', async () => {
    const worker = await testNodeWorker();
    await worker.runUntil(async () => {
      const bogus = { ...index('pi-bad'), cells: 'not a list' } as unknown as PerfIndex;
      const handle = await start(bogus);
      const failure = await handle.result().catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect(String((failure as WorkflowFailedError).cause?.cause)).toMatch(/does not match schema PerfIndex/);
      const attempts = ((await handle.fetchHistory()).events ?? []).flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : []));
      expect(attempts).toEqual([1]);
    });
  });
});
