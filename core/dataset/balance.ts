/**
 * Balance of an accepted dataset, decided on whole samples after generation: no classification label
 * set where one answer is most of the rows (a model learns to print it whatever the passage), and no
 * document that is most of a split (a model learns one document's wording). What is left out is
 * returned with its reason, for the manifest to count.
 */
import { sha256Hex } from '../artifacts';
import type { DatasetSample, DatasetSplit } from '../../schemas/generated/types';

export interface LeftOut<T> {
  item: T;
  reason: 'dominant_answer' | 'document_cap';
  detail: string;
}

export interface Balanced<T> {
  kept: T[];
  leftOut: LeftOut<T>[];
}

/** Appends in place: copying the group on every item made grouping a large document quadratic. */
function groupPush<T>(groups: Map<string, T[]>, key: string, item: T): void {
  const group = groups.get(key);
  if (group) group.push(item);
  else groups.set(key, [item]);
}

/** Seeded order of ids: the same seed and ids always keep the same rows. */
function seededOrder<T>(items: T[], id: (item: T) => string, seed: number): T[] {
  return items
    .map((item) => ({ item, key: sha256Hex(`${seed}:${id(item)}`) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((x) => x.item);
}

/**
 * Per classification label set, every answer is kept below half of the set's rows: the most frequent
 * answer is cut down to one less than all the others together (which, with three or more distinct
 * answers, leaves every answer under half). A set with fewer than three distinct answers cannot be
 * balanced and is left out whole.
 */
export function balanceLabelSets<T>(items: T[], sampleOf: (item: T) => DatasetSample, seed: number): Balanced<T> {
  const bySet = new Map<string, Map<string, T[]>>();
  const leftOut: LeftOut<T>[] = [];
  for (const item of items) {
    const sample = sampleOf(item);
    if (sample.task_type !== 'classification') continue;
    const set = JSON.stringify(sample.labels ?? []);
    const answers = bySet.get(set) ?? new Map<string, T[]>();
    bySet.set(set, answers);
    groupPush(answers, JSON.stringify(sample.answer_labels ?? []), item);
  }
  for (const [set, answers] of bySet) {
    const groups = [...answers.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
    const total = groups.reduce((n, [, g]) => n + g.length, 0);
    if (groups.length < 3) {
      const detail = `label set ${set} has ${groups.length} distinct answer(s) over ${total} rows; one would be at least half`;
      for (const [, group] of groups) for (const item of group) leftOut.push({ item, reason: 'dominant_answer', detail });
      continue;
    }
    const [top, ...rest] = groups;
    const others = rest.reduce((n, [, g]) => n + g.length, 0);
    const order = seededOrder(top![1], (item) => sampleOf(item).id, seed);
    const keep = Math.min(order.length, others - 1);
    const detail = `answer ${top![0]} capped at ${keep} of ${total} rows so that no answer is half of label set ${set}`;
    for (const item of order.slice(keep)) leftOut.push({ item, reason: 'dominant_answer', detail });
  }
  return withoutLeftOut(items, leftOut);
}

/** The items not left out, in their original order. */
function withoutLeftOut<T>(items: T[], leftOut: LeftOut<T>[]): Balanced<T> {
  const dropped = new Set(leftOut.map((l) => l.item));
  return { kept: items.filter((item) => !dropped.has(item)), leftOut };
}

/**
 * The largest row count each document may keep so that none is more than `share` of the rows kept
 * (water-filling: documents under the cap keep everything). With fewer than 1/share documents the
 * cap is an even split between them.
 */
export function documentRowCap(rowsPerDocument: number[], share: number): number {
  const effective = Math.max(share, 1 / Math.max(1, rowsPerDocument.length));
  const fits = (cap: number) => cap <= effective * rowsPerDocument.reduce((n, rows) => n + Math.min(rows, cap), 0) + 1e-9;
  let low = 0;
  let high = Math.max(0, ...rowsPerDocument);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

/**
 * Caps every document at `share` of the rows of its group (the whole dataset, or one split), sampling
 * an over-share document by chunk: whole chunks in seeded order, so the kept rows spread over the
 * document and keep its task-type mix.
 */
export function capDocuments<T>(items: T[], sampleOf: (item: T) => DatasetSample, share: number, seed: number, scope: DatasetSplit | 'dataset'): Balanced<T> {
  const byDocument = new Map<string, T[]>();
  for (const item of items) groupPush(byDocument, sampleOf(item).provenance.source_sha256, item);
  // Shares are of instruction rows (the SFT export that trains the models); a ranking pair restates its
  // chunk's summary and rides along with its chunk.
  const weight = (rows: T[]) => rows.filter((item) => sampleOf(item).task_type !== 'ranking').length;
  const cap = documentRowCap([...byDocument.values()].map(weight), share);
  const leftOut: LeftOut<T>[] = [];
  for (const rows of byDocument.values()) {
    if (weight(rows) <= cap) continue;
    const byChunk = new Map<string, T[]>();
    for (const item of rows) groupPush(byChunk, sampleOf(item).provenance.chunk_id, item);
    let budget = cap;
    const detail = `document over ${Math.round(share * 100)}% of the ${scope === 'dataset' ? 'dataset' : `${scope} split`}: at most ${cap} of its ${weight(rows)} instruction rows kept, sampled by chunk`;
    for (const chunk of seededOrder([...byChunk.keys()], (id) => id, seed)) {
      const group = byChunk.get(chunk)!;
      if (weight(group) <= budget) budget -= weight(group);
      else for (const item of group) leftOut.push({ item, reason: 'document_cap', detail });
    }
  }
  return withoutLeftOut(items, leftOut);
}
