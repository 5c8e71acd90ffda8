import { formatSeconds, pollUntilSettled, renderProgress, summariseChildProgress } from '../../cli/progress';
import { formatTrainProgress } from '../../cli/training-progress';

describe('CLI progress display', () => {
  it('shows each stage with counts, the ETA and the running child', () => {
    const text = renderProgress(
      {
        stage: 'dataset',
        eta_s: 300,
        artifacts: {},
        stages: [
          { stage: 'ingest', status: 'done', done: 5, total: 6 },
          { stage: 'dataset', status: 'running', workflow_id: 'x/dataset', progress_query: 'datasetProgress' },
          { stage: 'train', status: 'pending' },
        ],
      },
      { dataset: summariseChildProgress({ phase: 'generating', chunks_done: 3, chunks_total: 9, eta_seconds: 12.5, by_task_type: {} }) },
    );
    expect(text.split('\n')).toEqual([
      'stage: dataset, ETA ~5m',
      '  ✔ ingest   done 5/6',
      '  ▶ dataset  running  phase=generating chunks_done=3 chunks_total=9 eta_seconds=12.5',
      '  · train    pending',
    ]);
  });

  it('formats durations for people', () => {
    expect([formatSeconds(42), formatSeconds(600), formatSeconds(7200)]).toEqual(['42s', '10m', '2.0h']);
    expect(summariseChildProgress('awaiting_approval')).toBe('awaiting_approval');
  });

  it('shows a training run by step, loss, throughput and ETA, and says when it is a retry', () => {
    expect(formatTrainProgress('smollm2-135m/lora train_sft', { phase: 'training', step: 12, total_steps: 80, loss: 1.23456, tokens_per_second: 51.6, eta_seconds: 240 })).toBe(
      'smollm2-135m/lora train_sft training step 12/80  loss 1.235  52 tok/s  ETA ~4m',
    );
    expect(formatTrainProgress('train_sft', { phase: 'loading', step: 40, total_steps: 80, loss: null, eta_seconds: null }, 2)).toBe('train_sft loading step 40/80  attempt 2');
  });

  it('polls until the run settles, shows the last state once more, and passes a failure through', async () => {
    let shown = 0;
    let finish!: (value: string) => void;
    const result = new Promise<string>((resolve) => (finish = resolve));
    const polled = pollUntilSettled(result, async () => void shown++, 5);
    await new Promise((r) => setTimeout(r, 30));
    const before = shown;
    finish('done');
    await expect(polled).resolves.toBe('done');
    expect(before).toBeGreaterThan(1);
    expect(shown).toBe(before + 1);
    await expect(pollUntilSettled(Promise.reject(new Error('failed')), async () => undefined, 5)).rejects.toThrow('failed');
  });
});
