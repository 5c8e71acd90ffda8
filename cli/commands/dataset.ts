import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { artifactStoreFromEnv, type ArtifactStore } from '../../core/artifacts';
import { TypedError } from '../../core/errors';
import { validate } from '../../core/schemas';
import { buildDatasetLocally, loadStyleGuide, parseFeedbackJsonl, resolveBuildConfig, teacherFromConfig, writeFiles, type DocumentInput, type FeedbackBatch } from '../../core/dataset';
import { TASK_TYPES } from '../../core/dataset/config';
import { parseVerdicts, readReviewRows, sampleRows, writeReviewSheet } from '../../core/dataset/review';
import type { DatasetBuildConfig, DatasetManifest, DatasetReview, IngestManifest, TaskType } from '../../schemas/generated/types';
import { UsageError, verbCommand } from '../command';
import { numberFlag } from '../flags';

/** Rows a review sheet holds unless --sample says otherwise: a sitting's worth. */
const DEFAULT_REVIEW_SAMPLE = 50;

const USAGE = `llmloop dataset build PARSED_DIR_OR_MANIFEST --out DIR [options]
llmloop dataset review DIR [--sample N] [--seed S] [--out FILE.html]
llmloop dataset stats MANIFEST_JSON

build: parsed documents (a folder of DocumentModel JSON files as written by \`llmloop parse\`, one
DocumentModel file, or an ingest manifest whose entries reference stored documents) -> dataset
files and DIR/manifest.json, in this process, without Temporal (the buildDataset workflow is the
durable path). Options:
  --types LIST            comma-separated task types (default: all of ${TASK_TYPES.join(',')})
  --domain NAME           style guide / label set from config/domains/NAME.json (default: general)
  --teacher-url URL       OpenAI-compatible base URL ending in /v1 (default: $LLMLOOP_TEACHER_URL)
  --teacher-model ID      model name sent to the teacher (default: $LLMLOOP_TEACHER_MODEL)
  --teacher-max-chunks N  ask the teacher about the first N chunks only
  --max-tokens N          teacher reply budget (default 256)
  --judge-threshold X     with a teacher, a judge scores each teacher sample on a rubric (faithful,
                          complete, answers the instruction; 1..5 each) and rejects it when its
                          weakest criterion, as (score-1)/4, is below X (default 0.75)
  --judge-url URL         judge with this OpenAI-compatible endpoint instead of the teacher
  --judge-model ID        model name sent to the judge endpoint (required with --judge-url)
  --no-judge              keep teacher samples without judging them
  --target N              augment in rounds until N samples are accepted (with --max-rounds)
  --max-rounds N          generation round + augmentation rounds (default 1; 4 when --target is set)
  --seed S                split and distractor seed (default 13)
  --feedback FILE         JSONL of FeedbackTask rows (collectFeedback's tasks): each one answered by
                          the teacher into the train split; without a teacher each is counted as
                          rejected (no_teacher_for_feedback)
  --verdicts FILE         JSONL of DatasetVerdict rows (a review sheet's export): samples whose id
                          is marked bad are excluded and counted as rejected (review_bad); the
                          review's precision (good / marked) goes into the manifest
  $LLMLOOP_TEACHER_API_KEY is sent as the bearer token when set.

review: a seeded sample of a built dataset (DIR as written by build --out), stratified across task
types, as one self-contained HTML sheet and its Markdown twin: source passage with document and
page, instruction, answer, provenance; j/k or arrows move, g/b mark good/bad, u unmarks, n notes,
e exports verdicts.jsonl for build --verdicts. Marks persist in the browser per dataset version.
  --sample N              rows to review (default ${DEFAULT_REVIEW_SAMPLE})
  --seed S                sampling seed (default: the dataset's seed); same seed, same rows
  --out FILE.html         the sheet (default DIR/review.html); the twin is FILE.md

stats: prints a manifest (DIR/manifest.json) readably.`;

export const datasetCommand = verbCommand({
  name: 'dataset',
  summary: 'build an instruction dataset from parsed documents (dataset build), sample it for review (dataset review), print a manifest (dataset stats)',
  usage: USAGE,
  verbs: { build, review, stats },
});

async function build(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      types: { type: 'string' },
      domain: { type: 'string' },
      'teacher-url': { type: 'string' },
      'teacher-model': { type: 'string' },
      'teacher-max-chunks': { type: 'string' },
      'max-tokens': { type: 'string' },
      'judge-threshold': { type: 'string' },
      'judge-url': { type: 'string' },
      'judge-model': { type: 'string' },
      'no-judge': { type: 'boolean' },
      target: { type: 'string' },
      'max-rounds': { type: 'string' },
      seed: { type: 'string' },
      feedback: { type: 'string' },
      verdicts: { type: 'string' },
    },
  });
  if (!values.out) throw new UsageError('--out DIR is required');
  if (positionals.length !== 1) throw new UsageError('exactly one PARSED_DIR_OR_MANIFEST is required');
  const overrides: Partial<DatasetBuildConfig> = {};
  if (values.types) overrides.task_types = values.types.split(',').map((t) => taskType(t.trim())) as DatasetBuildConfig['task_types'];
  if (values.domain) overrides.style_guide = loadStyleGuide(values.domain);
  if (values.seed) overrides.seed = numberFlag('--seed', values.seed, { integer: true })!;
  if (values.target) {
    overrides.target_size = numberFlag('--target', values.target, { integer: true })!;
    overrides.max_rounds = 4;
  }
  if (values['max-rounds']) overrides.max_rounds = numberFlag('--max-rounds', values['max-rounds'], { integer: true })!;
  if (values['judge-threshold']) overrides.judge_threshold = numberFlag('--judge-threshold', values['judge-threshold'], { min: 0 })!;
  if (values['judge-url']) {
    if (!values['judge-model']) throw new TypedError('InvalidRequest', 'a judge URL needs a model name: --judge-model');
    overrides.judge = { url: values['judge-url'], model: values['judge-model'] };
  }
  const teacherUrl = values['teacher-url'] ?? process.env.LLMLOOP_TEACHER_URL;
  if (teacherUrl) {
    const model = values['teacher-model'] ?? process.env.LLMLOOP_TEACHER_MODEL;
    if (!model) throw new TypedError('InvalidRequest', 'a teacher URL needs a model name: --teacher-model or LLMLOOP_TEACHER_MODEL');
    overrides.teacher = {
      url: teacherUrl,
      model,
      ...(values['max-tokens'] ? { max_tokens: numberFlag('--max-tokens', values['max-tokens'], { integer: true })! } : {}),
      ...(values['teacher-max-chunks'] ? { max_chunks: numberFlag('--teacher-max-chunks', values['teacher-max-chunks'], { integer: true })! } : {}),
    };
  }
  const config = resolveBuildConfig(overrides, { judgeOff: values['no-judge'] === true });
  const store = artifactStoreFromEnv();
  const documents = await readParsedDocuments(positionals[0]!, store);
  const feedback = values.feedback ? await readFeedbackTasks(values.feedback, store) : undefined;
  const verdicts = values.verdicts ? parseVerdicts(await fs.readFile(values.verdicts, 'utf8'), values.verdicts) : undefined;
  const result = await buildDatasetLocally(documents, {
    config,
    store,
    ...(feedback ? { feedback } : {}),
    ...(verdicts ? { verdicts } : {}),
    ...(config.teacher ? { teacher: teacherFromConfig(config.teacher) } : {}),
    ...(config.judge ? { judge: teacherFromConfig(config.judge) } : {}),
    // Progress redraws one terminal line; in a log it would be one line per chunk.
    ...(process.stderr.isTTY ? { onProgress: (note: string) => process.stderr.write(`\r${note}   `) } : {}),
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  await writeFiles([...result.files, { file: 'manifest.json', content: JSON.stringify(result.manifest, null, 2) + '\n' }], values.out);
  console.log(formatManifest(result.manifest));
  console.log(`\nfiles: ${path.resolve(values.out)}   manifest artifact: ${result.manifestRef.sha256}`);
  return 0;
}

async function review(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { sample: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' } } });
  if (positionals.length !== 1) throw new UsageError('exactly one dataset DIR is required');
  const dir = positionals[0]!;
  const manifest = validate('DatasetManifest', JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')));
  const size = numberFlag('--sample', values.sample, { integer: true, min: 1 }) ?? DEFAULT_REVIEW_SAMPLE;
  const seed = numberFlag('--seed', values.seed, { integer: true }) ?? manifest.config.seed;
  const rows = await readReviewRows(manifest, (entry) => fs.readFile(path.join(dir, entry.file), 'utf8'));
  const sheet = { version: manifest.version, seed, population: rows.length, rows: sampleRows(rows, size, seed) };
  const written = await writeReviewSheet(sheet, values.out ?? path.join(dir, 'review.html'));
  console.log(`${sheet.rows.length} of ${rows.length} samples of ${manifest.version} (seed ${seed})\nsheet:    ${written.html}\nmarkdown: ${written.markdown}`);
  return 0;
}

async function stats(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError('exactly one MANIFEST_JSON is required');
  const manifest = validate('DatasetManifest', JSON.parse(await fs.readFile(positionals[0]!, 'utf8')));
  console.log(formatManifest(manifest));
  return 0;
}

/** Every *.json DocumentModel under a folder, a single DocumentModel file, or an ingest manifest's stored documents. */
async function readParsedDocuments(input: string, store: ArtifactStore): Promise<DocumentInput[]> {
  const stat = await fs.stat(input);
  const files = stat.isDirectory() ? (await fs.readdir(input, { recursive: true })).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(input, f)) : [input];
  const documents: DocumentInput[] = [];
  for (const file of files) {
    const value: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    const entries = (value as Partial<IngestManifest>).entries;
    if (Array.isArray(entries)) {
      for (const entry of entries) if (entry.ok && entry.document) documents.push({ input: entry.document.sha256, value: await store.getJson(entry.document) });
    } else {
      documents.push({ input: path.relative(process.cwd(), file), value });
    }
  }
  if (!documents.length) throw new TypedError('EmptyDataset', `no parsed documents in ${input}`);
  return documents;
}

export function formatManifest(m: DatasetManifest): string {
  const table = (title: string, counts: Record<string, number>) => [`${title}:`, ...Object.entries(counts).map(([k, v]) => `  ${k.padEnd(28)} ${String(v).padStart(7)}`)].join('\n');
  const rejected = Object.values(m.counts.rejected_by_reason).reduce((a, b) => a + b, 0);
  const failed = Object.values(m.counts.failed_by_error).reduce((a, b) => a + b, 0);
  return [
    `dataset ${m.version}  (created ${m.created_at})`,
    `generated ${m.counts.generated} = accepted ${m.counts.accepted} + rejected ${rejected} + failed ${failed}`,
    table('by task type', m.by_task_type),
    table('by language', m.by_language),
    table('by split', m.by_split),
    table('rejected by reason', m.counts.rejected_by_reason),
    table('failed by error', m.counts.failed_by_error),
    `documents (${m.documents.length}, each in exactly one split):`,
    ...m.documents.map((d) => `  ${d.split.padEnd(10)} ${String(d.samples).padStart(5)}  ${d.path}`),
    ...(m.skipped_documents.length ? [`skipped inputs (${m.skipped_documents.length}):`, ...m.skipped_documents.map((s) => `  ${s.input}: ${s.reason}`)] : []),
    ...(m.review ? [formatReview(m.review)] : []),
    `rounds: ${m.rounds.map((r) => `#${r.round} ${r.accepted}/${r.generated}`).join('  ')}`,
    'exports:',
    ...m.exports.map((e) => `  ${e.file.padEnd(44)} ${String(e.rows).padStart(6)} rows  ${e.artifact.sha256.slice(0, 12)}`),
  ].join('\n');
}

function formatReview(r: DatasetReview): string {
  const precision = r.precision === null ? '—' : r.precision.toFixed(3);
  return `review (verdicts ${r.verdicts.slice(0, 12)}): marked ${r.marked} = good ${r.good} + bad ${r.bad}, precision ${precision}; excluded ${r.excluded}` +
    (r.unmatched ? `; ${r.unmatched} marked ids are not in this build (inputs, config or templates changed since the review)` : '');
}

function taskType(value: string): TaskType {
  if (!(TASK_TYPES as readonly string[]).includes(value)) throw new TypedError('InvalidRequest', `unknown task type '${value}' (known: ${TASK_TYPES.join(', ')})`);
  return value as TaskType;
}

/** Stored like collectFeedback's artifact, so the samples' source is the same sha256 the workflow path would record. */
async function readFeedbackTasks(file: string, store: ArtifactStore): Promise<FeedbackBatch> {
  const text = await fs.readFile(file, 'utf8');
  const ref = await store.put(text, 'application/jsonl');
  return { tasks_sha256: ref.sha256, rows: parseFeedbackJsonl(text) };
}
