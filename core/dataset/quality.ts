/**
 * Quality gates a generated sample passes before it is accepted. Each refusal names its gate, so the
 * manifest can count rejections by reason (near-duplicates are judged later, across the dataset).
 */
import { schemaProblems } from '../schemas';
import type { DatasetBuildConfig, DatasetSample } from '../../schemas/generated/types';
import { judgeRejectionReason } from './teacher';
import { bigramSupport, detectLanguage } from './text';

export type GateReason = 'schema_invalid' | 'too_short' | 'too_long' | 'language_mismatch' | 'ungrounded' | 'invalid_labels' | ReturnType<typeof judgeRejectionReason>;

export interface GateRefusal {
  reason: GateReason;
  detail: string;
}

type GateConfig = Pick<DatasetBuildConfig, 'min_chars' | 'max_chars' | 'grounding_threshold' | 'judge_threshold'>;

export function checkSample(sample: DatasetSample, sourceSpan: string, config: GateConfig): GateRefusal | undefined {
  const problems = schemaProblems('DatasetSample', sample);
  if (problems.length) return { reason: 'schema_invalid', detail: problems.slice(0, 3).join('; ') };

  const answers = sample.task_type === 'ranking' ? [sample.chosen ?? '', sample.rejected ?? ''] : [sample.completion];
  for (const answer of answers) {
    const length = answer.trim().length;
    if (length < (sample.task_type === 'classification' ? 2 : config.min_chars)) return { reason: 'too_short', detail: `${length} characters` };
    if (length > config.max_chars) return { reason: 'too_long', detail: `${length} characters > ${config.max_chars}` };
  }

  if (sample.task_type === 'classification') {
    const allowed = new Set(sample.labels ?? []);
    const applied = sample.answer_labels ?? [];
    if (!applied.length || applied.some((l) => !allowed.has(l))) return { reason: 'invalid_labels', detail: `answer ${JSON.stringify(applied)} not a non-empty subset of the label set` };
  } else {
    const language = detectLanguage(sample.completion);
    if (language !== sample.language) return { reason: 'language_mismatch', detail: `answer is ${language}, source is ${sample.language}` };
  }

  // A production prompt has no source span to be grounded in: feedback samples skip this gate.
  const grounded = sample.task_type === 'summary' || sample.task_type === 'reasoning' || sample.task_type === 'ranking';
  if (grounded && !sample.provenance.feedback) {
    const support = bigramSupport(sample.task_type === 'ranking' ? sample.chosen! : sample.completion, sourceSpan);
    if (support < config.grounding_threshold) return { reason: 'ungrounded', detail: `${(support * 100).toFixed(0)}% of the answer's bigrams occur in the source span` };
  }

  const judged = sample.provenance.judge_score;
  const criteria = sample.provenance.judge_criteria;
  if (config.judge_threshold !== undefined && judged !== null && criteria && judged < config.judge_threshold) {
    return { reason: judgeRejectionReason(criteria), detail: `judge scores ${JSON.stringify(criteria)}: weakest ${judged.toFixed(2)} < ${config.judge_threshold}` };
  }
  return undefined;
}
