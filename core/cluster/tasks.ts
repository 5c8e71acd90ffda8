import type { DatasetExport, DatasetManifest, EvalTask } from '../../schemas/generated/types';
import { TASK_TYPES as ALL_TASK_TYPES } from '../dataset/config';
import { TypedError } from '../errors';

const TASK_TYPES = new Set<EvalTask['task_type']>(ALL_TASK_TYPES);
const LANGUAGES = new Set<EvalTask['language']>(['zh', 'en']);
const SPLITS = new Set<EvalTask['split']>(['train', 'validation', 'test']);

/** The dataset exports tasks are read from: SFT rows (every task type but ranking) and preference rows (ranking). */
const TASK_EXPORT_FORMATS: readonly DatasetExport['format'][] = ['trl-sft', 'trl-preference'];

export interface ExtractedTasks {
  tasks: EvalTask[];
  /** One line per unusable row: file:line and why. */
  skipped: string[];
}

type Message = { role: string; content: string };

/**
 * Reads every SFT and preference export of a dataset into evaluation tasks: the prompt messages
 * (without the reference answer), the reference, task type, language, split and label list.
 * Rows that cannot be used are listed in `skipped`, so one bad row never sinks the evaluation.
 */
export async function tasksFromDataset(manifest: DatasetManifest, readExport: (exported: DatasetExport) => Promise<string>): Promise<ExtractedTasks> {
  const tasks: EvalTask[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const exported of manifest.exports.filter((e) => TASK_EXPORT_FORMATS.includes(e.format))) {
    const lines = (await readExport(exported)).split('\n');
    lines.forEach((line, index) => {
      if (!line.trim()) return;
      const where = `${exported.file}:${index + 1}`;
      try {
        const task = taskFromRow(JSON.parse(line) as Record<string, unknown>, exported.format);
        if (seen.has(task.id)) throw new Error(`duplicate task id ${task.id}`);
        seen.add(task.id);
        tasks.push(task);
      } catch (err) {
        skipped.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }
  if (tasks.length === 0) throw new TypedError('EmptyDataset', `dataset ${manifest.version} has no usable task rows`, { skipped: skipped.slice(0, 20) });
  return { tasks: tasks.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), skipped };
}

function taskFromRow(row: Record<string, unknown>, format: DatasetExport['format']): EvalTask {
  const id = requireString(row.id, 'id');
  const task_type = requireMember(row.task_type, TASK_TYPES, 'task_type');
  const language = requireMember(row.language, LANGUAGES, 'language');
  const split = requireMember(row.split, SPLITS, 'split');
  let messages: Message[];
  let reference: string;
  if (format === 'trl-preference') {
    messages = [{ role: 'user', content: requireString(row.prompt, 'prompt') }];
    reference = requireString(row.chosen, 'chosen');
  } else {
    const all = requireMessages(row.messages);
    const last = all[all.length - 1]!;
    if (last.role !== 'assistant') throw new Error('the last message must be the assistant reference answer');
    messages = all.slice(0, -1);
    reference = last.content;
    if (!messages.some((m) => m.role === 'user')) throw new Error('no user message');
  }
  const labels = Array.isArray(row.labels) ? row.labels.filter((l): l is string => typeof l === 'string') : [];
  if (task_type === 'classification' && labels.length === 0) throw new Error('classification row without its label list');
  return {
    id,
    text: messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n'),
    messages,
    reference,
    task_type,
    language,
    split,
    ...(labels.length ? { labels } : {}),
    ...(typeof row.source_sha256 === 'string' ? { source_sha256: row.source_sha256 } : {}),
  };
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new Error(`missing ${field}`);
  return value;
}

function requireMember<T extends string>(value: unknown, allowed: Set<T>, field: string): T {
  if (!allowed.has(value as T)) throw new Error(`${field} ${JSON.stringify(value)} is not one of ${[...allowed].join(', ')}`);
  return value as T;
}

function requireMessages(value: unknown): Message[] {
  if (!Array.isArray(value) || value.length < 2) throw new Error('messages must hold the prompt and the reference answer');
  return value.map((m: unknown) => {
    const message = m as Partial<Message>;
    if (typeof message?.role !== 'string' || typeof message.content !== 'string') throw new Error('every message needs a role and content');
    return { role: message.role, content: message.content };
  });
}
