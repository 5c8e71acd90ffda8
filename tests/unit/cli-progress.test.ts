import { formatSeconds, renderProgress, summariseChildProgress } from '../../cli/progress';

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
});
