/**
 * Export files written from the split samples: TRL (SFT messages, preference pairs, GRPO prompts with
 * reference answers) and LLaMA-Factory (Alpaca, ShareGPT, Alpaca preference + dataset_info.json,
 * fields as documented in LLaMA-Factory's data/README.md). Every row keeps id, task type, language,
 * split and provenance; every row of a file has the same keys so `datasets` infers one schema.
 */
import type { DatasetExport, DatasetRejection, DatasetSample, DatasetSplit } from '../../schemas/generated/types';
import { SPLITS } from './split';

export interface ExportFile {
  file: string;
  format: DatasetExport['format'];
  split?: DatasetSplit;
  rows: number;
  content: string;
}

function metadata(sample: DatasetSample) {
  const p = sample.provenance;
  return {
    id: sample.id,
    task_type: sample.task_type,
    language: sample.language,
    split: sample.split!,
    labels: sample.labels ?? [],
    source_sha256: p.source_sha256,
    provenance: {
      source_path: p.source_path,
      units: p.units,
      block_ids: p.block_ids,
      chunk_id: p.chunk_id,
      engine: p.engine,
      generator: p.generator,
      operator: p.operator ?? null,
      round: p.round,
      judge_score: p.judge_score,
      judge_criteria: p.judge_criteria ?? null,
      feedback: p.feedback ?? null,
      ocr_confidence: p.ocr_confidence ?? null,
    },
  };
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');

/** SFT rows: every accepted sample except ranking pairs, whose chosen answer already appears as a summary. */
const isSft = (s: DatasetSample) => s.task_type !== 'ranking';
const isPreference = (s: DatasetSample) => s.task_type === 'ranking';

export function buildExports(samples: DatasetSample[], rejections: DatasetRejection[]): ExportFile[] {
  const files: ExportFile[] = [];
  const add = (file: string, format: ExportFile['format'], rows: unknown[], split?: DatasetSplit) => files.push({ file, format, rows: rows.length, content: jsonl(rows), ...(split ? { split } : {}) });
  const datasetInfo: Record<string, unknown> = {};

  for (const split of SPLITS) {
    const inSplit = samples.filter((s) => s.split === split);
    const sft = inSplit.filter(isSft);
    const preference = inSplit.filter(isPreference);

    add(`trl/sft/${split}.jsonl`, 'trl-sft', sft.map((s) => ({ messages: [{ role: 'user', content: s.prompt }, { role: 'assistant', content: s.completion }], ...metadata(s) })), split);
    add(`trl/preference/${split}.jsonl`, 'trl-preference', preference.map((s) => ({ prompt: s.prompt, chosen: s.chosen!, rejected: s.rejected!, preference_reason: s.preference_reason!, ...metadata(s) })), split);
    add(`trl/grpo/${split}.jsonl`, 'trl-grpo', sft.map((s) => ({ prompt: [{ role: 'user', content: s.prompt }], reference_answer: s.completion, ...metadata(s) })), split);

    const alpaca = `llamafactory/sft_alpaca_${split}.jsonl`;
    const sharegpt = `llamafactory/sft_sharegpt_${split}.jsonl`;
    const pairs = `llamafactory/preference_alpaca_${split}.jsonl`;
    add(alpaca, 'llamafactory-alpaca', sft.map((s) => ({ instruction: s.prompt, input: '', output: s.completion, ...metadata(s) })), split);
    add(sharegpt, 'llamafactory-sharegpt', sft.map((s) => ({ conversations: [{ from: 'human', value: s.prompt }, { from: 'gpt', value: s.completion }], ...metadata(s) })), split);
    add(pairs, 'llamafactory-alpaca-preference', preference.map((s) => ({ instruction: s.prompt, input: '', chosen: s.chosen!, rejected: s.rejected!, ...metadata(s) })), split);

    const name = (file: string) => file.slice('llamafactory/'.length);
    datasetInfo[`llmloop_sft_alpaca_${split}`] = { file_name: name(alpaca), formatting: 'alpaca', columns: { prompt: 'instruction', query: 'input', response: 'output' } };
    datasetInfo[`llmloop_sft_sharegpt_${split}`] = {
      file_name: name(sharegpt),
      formatting: 'sharegpt',
      columns: { messages: 'conversations' },
      tags: { role_tag: 'from', content_tag: 'value', user_tag: 'human', assistant_tag: 'gpt' },
    };
    datasetInfo[`llmloop_preference_alpaca_${split}`] = { file_name: name(pairs), formatting: 'alpaca', ranking: true, columns: { prompt: 'instruction', query: 'input', chosen: 'chosen', rejected: 'rejected' } };
  }
  files.push({ file: 'llamafactory/dataset_info.json', format: 'llamafactory-dataset-info', rows: Object.keys(datasetInfo).length, content: JSON.stringify(datasetInfo, null, 2) + '\n' });
  add('rejections.jsonl', 'rejections', rejections);
  return files;
}
