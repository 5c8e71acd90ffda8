/** The build config: defaults, overrides, domain style guides from config/domains/. */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../config';
import { TypedError } from '../errors';
import { validate } from '../schemas';
import type { DatasetBuildConfig, StyleGuide, TaskType } from '../../schemas/generated/types';

export const DOMAINS_DIR = path.join(REPO_ROOT, 'config', 'domains');
export const DEFAULT_DOMAIN = 'general';

/** Every task type, in the order builds and reports list them (the TaskType enum of schemas/dataset.schema.json). */
export const TASK_TYPES = ['summary', 'classification', 'reasoning', 'rewrite', 'ranking'] as const satisfies readonly TaskType[];

export const DEFAULT_BUILD_CONFIG: DatasetBuildConfig = {
  task_types: [...TASK_TYPES],
  seed: 13,
  max_rounds: 1,
  split_ratios: { train: 0.8, validation: 0.1, test: 0.1 },
  chunk_max_tokens: 512,
  min_chars: 8,
  max_chars: 4000,
  grounding_threshold: 0.5,
  dedup_threshold: 0.7,
  max_document_share: 0.25,
};

export function loadStyleGuide(domain: string): StyleGuide {
  if (!/^[a-z0-9_-]+$/.test(domain)) throw new TypedError('InvalidRequest', `domain name '${domain}' must be lower-case letters, digits, - or _`);
  const file = path.join(DOMAINS_DIR, `${domain}.json`);
  if (!fs.existsSync(file)) {
    const known = fs.readdirSync(DOMAINS_DIR).map((f) => f.replace(/\.json$/, ''));
    throw new TypedError('InvalidRequest', `no style guide for domain '${domain}' (known: ${known.join(', ')})`);
  }
  return validate('StyleGuide', JSON.parse(fs.readFileSync(file, 'utf8')));
}

/** Teacher samples pass the judge when every rubric criterion scores at least 4 of 5. */
export const DEFAULT_JUDGE_THRESHOLD = 0.75;

/**
 * Defaults overlaid with `overrides`; the default domain's style guide when none is given. With a
 * teacher, its samples are judged unless `judgeOff` (teacher text is the one part not true by construction).
 */
export function resolveBuildConfig(overrides: Partial<DatasetBuildConfig> = {}, { judgeOff = false } = {}): DatasetBuildConfig {
  const config = { ...DEFAULT_BUILD_CONFIG, ...overrides };
  config.style_guide ??= loadStyleGuide(DEFAULT_DOMAIN);
  if (config.teacher && !judgeOff) config.judge_threshold ??= DEFAULT_JUDGE_THRESHOLD;
  if (judgeOff) delete config.judge_threshold;
  return validate('DatasetBuildConfig', config);
}
