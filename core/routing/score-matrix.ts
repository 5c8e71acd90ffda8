/**
 * The route-eval score matrix: a CSV with `id`, `prompt`, optional `group` and `split`, one
 * `score__<model>` column per model (quality in [0,1]) and optional `cost__<model>` columns.
 */
import { TypedError } from '../errors';

export interface ScoredPrompt {
  id: string;
  prompt: string;
  group: string | null;
  split: 'train' | 'test';
  /** Quality of each model on this prompt, in [0,1]. */
  scores: Record<string, number>;
  /** Cost of this prompt on each model. */
  costs: Record<string, number>;
}

export interface RejectedRow {
  /** CSV record number, the header being record 1 (quoted prompts may span several lines). */
  record: number;
  reason: string;
}

export interface ScoreMatrix {
  models: string[];
  prompts: ScoredPrompt[];
  /** Rows left out for bad values; one bad row never sinks the evaluation. */
  rejected: RejectedRow[];
}

/** RFC 4180: quoted fields may hold commas, doubled quotes and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (quoted) throw new TypedError('InvalidRequest', 'CSV ends inside a quoted field');
  if (field !== '' || row.length) rows.push([...row, field]);
  return rows.filter((r) => r.length > 1 || r[0] !== '');
}

/** Deterministic PRNG (mulberry32) so splits and random baselines repeat for a seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ScoreMatrixOptions {
  /** Per-request cost of each model, for models without `cost__<model>` columns. */
  costs?: Record<string, number>;
  /** Seed of the 70/30 train/test split used when the CSV has no `split` column. */
  seed?: number;
}

function numberIn(value: string, what: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new TypedError('InvalidRequest', `${what} is ${JSON.stringify(value)}, expected a number in [${min}, ${max}]`);
  }
  return n;
}

export function parseScoreMatrix(text: string, options: ScoreMatrixOptions = {}): ScoreMatrix {
  const [header, ...records] = parseCsv(text);
  if (!header) throw new TypedError('InvalidRequest', 'the score matrix is empty');
  const column = (name: string) => header.indexOf(name);
  for (const required of ['id', 'prompt']) {
    if (column(required) < 0) throw new TypedError('InvalidRequest', `the score matrix has no '${required}' column`);
  }
  const models = header.filter((h) => h.startsWith('score__')).map((h) => h.slice('score__'.length));
  if (models.length < 1) throw new TypedError('InvalidRequest', 'the score matrix has no score__<model> column');
  for (const model of models) {
    if (column(`cost__${model}`) < 0 && options.costs?.[model] === undefined) {
      throw new TypedError('InvalidRequest', `no cost for model ${model}: add a cost__${model} column or pass --cost ${model}=USD`);
    }
  }
  const random = seededRandom(options.seed ?? 0);
  const splitColumn = column('split');
  const groupColumn = column('group');
  const prompts: ScoredPrompt[] = [];
  const rejected: RejectedRow[] = [];
  const parseRow = (cells: string[]): ScoredPrompt => {
    if (cells.length !== header.length) throw new TypedError('InvalidRequest', `${cells.length} fields, the header has ${header.length}`);
    const split = splitColumn >= 0 ? cells[splitColumn]! : random() < 0.7 ? 'train' : 'test';
    if (split !== 'train' && split !== 'test') throw new TypedError('InvalidRequest', `split is ${JSON.stringify(split)}, expected train or test`);
    const scores: Record<string, number> = {};
    const costs: Record<string, number> = {};
    for (const model of models) {
      scores[model] = numberIn(cells[column(`score__${model}`)]!, `score__${model}`, 0, 1);
      const costColumn = column(`cost__${model}`);
      costs[model] = costColumn >= 0 ? numberIn(cells[costColumn]!, `cost__${model}`, 0, Number.MAX_VALUE) : options.costs![model]!;
    }
    return { id: cells[column('id')]!, prompt: cells[column('prompt')]!, group: groupColumn >= 0 ? cells[groupColumn]! || null : null, split, scores, costs };
  };
  records.forEach((cells, index) => {
    try {
      prompts.push(parseRow(cells));
    } catch (err) {
      if (!(err instanceof TypedError)) throw err;
      rejected.push({ record: index + 2, reason: err.message });
    }
  });
  return { models, prompts, rejected };
}
