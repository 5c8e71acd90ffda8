/**
 * Train/validation/test assignment by source document, so no document's text is on both sides of an
 * evaluation. Documents are visited in a seeded order and each goes to the split whose per-task-type
 * quota it fills best, which keeps every task type near the requested ratios.
 */
import { sha256Hex } from '../artifacts';
import type { DatasetBuildConfig, DatasetSplit, TaskType } from '../../schemas/generated/types';

export const SPLITS: readonly DatasetSplit[] = ['train', 'validation', 'test'];

export interface DocumentTaskCounts {
  sha256: string;
  byType: Partial<Record<TaskType, number>>;
}

export function assignSplits(documents: DocumentTaskCounts[], ratios: DatasetBuildConfig['split_ratios'], seed: number): Map<string, DatasetSplit> {
  const ratioSum = SPLITS.reduce((s, split) => s + ratios[split], 0);
  if (!(ratioSum > 0)) throw new Error('split ratios must not all be zero');
  const totals = new Map<TaskType, number>();
  for (const doc of documents) for (const [type, n] of Object.entries(doc.byType) as [TaskType, number][]) totals.set(type, (totals.get(type) ?? 0) + n);

  const filled = new Map(SPLITS.map((s) => [s, new Map<TaskType, number>()]));
  const order = [...documents].sort((a, b) => {
    const ka = sha256Hex(`${seed}:${a.sha256}`);
    const kb = sha256Hex(`${seed}:${b.sha256}`);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const assignment = new Map<string, DatasetSplit>();
  for (const doc of order) {
    let best: DatasetSplit = 'train';
    let bestScore = -Infinity;
    for (const split of SPLITS) {
      if (ratios[split] === 0) continue;
      // Deficit after taking this document, summed over its task types: positive = the split still wants these samples.
      let score = 0;
      for (const [type, n] of Object.entries(doc.byType) as [TaskType, number][]) {
        const target = (ratios[split] / ratioSum) * totals.get(type)!;
        score += n * (target - (filled.get(split)!.get(type) ?? 0)) - (n * n) / 2;
      }
      if (score > bestScore) {
        bestScore = score;
        best = split;
      }
    }
    assignment.set(doc.sha256, best);
    const counts = filled.get(best)!;
    for (const [type, n] of Object.entries(doc.byType) as [TaskType, number][]) counts.set(type, (counts.get(type) ?? 0) + n);
  }
  return assignment;
}
