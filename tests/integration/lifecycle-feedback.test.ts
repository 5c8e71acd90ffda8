/**
 * The lifecycle hands the feedback loop's tasks (LifecycleInput.extra_samples) to its dataset stage.
 * Runs ingest + dataset for real and cancels once training starts: the rest of the pipeline has its
 * own tests and does not read the feedback tasks.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { lifecycleInput } from '../../cli/lifecycle-input';
import { artifactStoreFromEnv, sha256Hex } from '../../core/artifacts';
import { REPO_ROOT, TASK_QUEUE_CPU } from '../../core/config';
import type { BuildDatasetResult, DatasetManifest, FeedbackTask, LifecycleInput, LifecycleProgress, LifecycleResult } from '../../schemas/generated/types';
import { testClient, testNodeWorker } from '../helpers/temporal';

jest.setTimeout(180_000);

describe('lifecycle with feedback tasks', () => {
  it('passes extra_samples to buildDataset as feedback_tasks, where each task is accounted for', async () => {
    const run = randomUUID();
    const tasks: FeedbackTask[] = ['How do I restart the pump station controller?', '如何申请设备检修？'].map((prompt, i) => ({
      id: `fb-${sha256Hex(`${run}:${prompt}`).slice(0, 16)}`,
      prompt,
      messages: [{ role: 'user', content: prompt }],
      reason: 'low_score',
      score: 0.1,
      request_id: `${run}-${i}`,
    }));
    const store = artifactStoreFromEnv();
    const extra_samples = await store.put(tasks.map((t) => JSON.stringify(t)).join('\n') + '\n', 'application/jsonl');
    const input: LifecycleInput = {
      ...lifecycleInput([path.join(REPO_ROOT, 'samples', 'corpus', 'pump-station-report.docx')], path.join(REPO_ROOT, 'config', 'lifecycle.tiny.json')),
      extra_samples,
    };

    const client = await testClient();
    const workflowId = `lifecycle-feedback-${run}`;
    const handle = await client.workflow.start('lifecycle', { taskQueue: TASK_QUEUE_CPU, workflowId, args: [input] });
    const worker = await testNodeWorker();
    const result = await worker.runUntil(async () => {
      // No Python worker: training never starts, so stop there.
      for (;;) {
        const progress = await handle.query<LifecycleProgress>('progress');
        if (progress.stage === 'train') break;
        await new Promise((r) => setTimeout(r, 250));
      }
      await handle.executeUpdate('cancel', { args: [{ reason: 'dataset checked' }] });
      return (await handle.result()) as LifecycleResult;
    });
    expect(result.status).toBe('cancelled');

    const dataset = client.workflow.getHandle(`${workflowId}/dataset`);
    const built = (await dataset.result()) as BuildDatasetResult;
    const manifest = await store.getJson<DatasetManifest>(built.dataset);
    // The tiny config has no teacher: both tasks are counted as refused, not dropped.
    expect(manifest.counts.rejected_by_reason.no_teacher_for_feedback).toBe(tasks.length);
  });
});
