/**
 * Train/validation/test assignment by source document, so no document's text is on both sides of an
 * evaluation. The held-out splits are filled first, from the documents that fill most of a split's
 * cap (in seeded order among equals), until each holds its ratio of the rows; each document counts
 * there for at most `maxDocumentShare` of the
 * split's target (what the per-split cap will keep of it), so a held-out split gathers several
 * documents instead of being one large one. Documents far over that cap stay in train, where they
 * are worth most. Train keeps at least half of the documents, and always one.
 */
import { sha256Hex } from '../artifacts';
import type { DatasetBuildConfig, DatasetSplit, TaskType } from '../../schemas/generated/types';

export const SPLITS: readonly DatasetSplit[] = ['train', 'validation', 'test'];

export interface DocumentTaskCounts {
  sha256: string;
  byType: Partial<Record<TaskType, number>>;
}

/** A document this many times its held-out cap would be mostly sampled away there: it trains instead. */
const HELD_OUT_OVERSIZE = 2;

export function assignSplits(documents: DocumentTaskCounts[], ratios: DatasetBuildConfig['split_ratios'], seed: number, maxDocumentShare = 1): Map<string, DatasetSplit> {
  const ratioSum = SPLITS.reduce((s, split) => s + ratios[split], 0);
  if (!(ratioSum > 0)) throw new Error('split ratios must not all be zero');
  const sizeOf = (doc: DocumentTaskCounts) => Object.values(doc.byType).reduce((a, b) => a + (b ?? 0), 0);
  const total = documents.reduce((n, d) => n + sizeOf(d), 0);
  const order = [...documents].sort((a, b) => {
    const ka = sha256Hex(`${seed}:${a.sha256}`);
    const kb = sha256Hex(`${seed}:${b.sha256}`);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const assignment = new Map<string, DatasetSplit>(order.map((d) => [d.sha256, 'train']));
  const heldOut = SPLITS.filter((s) => s !== 'train' && ratios[s] > 0).map((split) => {
    const target = (ratios[split] / ratioSum) * total;
    return { split, target, cap: Math.max(1, maxDocumentShare * target), filled: 0, documents: 0 };
  });
  const trainDocuments = ratios.train > 0 ? Math.max(1, Math.ceil(documents.length / 2)) : 0;
  let movable = documents.length - trainDocuments;
  // Held-out places are few (train keeps half the documents): offer them first to the documents that
  // fill the most of a split's cap, in seeded order among equals.
  const largestCap = Math.max(0, ...heldOut.map((h) => h.cap));
  const byContribution = [...order].sort((a, b) => Math.min(sizeOf(b), largestCap) - Math.min(sizeOf(a), largestCap));
  for (const doc of byContribution) {
    if (movable === 0) break;
    const size = sizeOf(doc);
    const wanting = heldOut.filter((h) => h.filled < h.target && size <= HELD_OUT_OVERSIZE * h.cap);
    const neediest = wanting.sort((a, b) => b.target - b.filled - (a.target - a.filled) || (a.split < b.split ? -1 : 1))[0];
    if (!neediest) continue;
    assignment.set(doc.sha256, neediest.split);
    neediest.filled += Math.min(size, neediest.cap);
    neediest.documents++;
    movable--;
  }
  // A held-out split no document was small enough for still gets the smallest one left in train.
  for (const h of heldOut) {
    if (h.documents > 0 || movable === 0) continue;
    const smallest = order.filter((d) => assignment.get(d.sha256) === 'train').sort((a, b) => sizeOf(a) - sizeOf(b))[0];
    if (!smallest) break;
    assignment.set(smallest.sha256, h.split);
    movable--;
  }
  return assignment;
}
