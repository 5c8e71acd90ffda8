/**
 * What `make demo` sends through the gateway, and how it judges the replies: every prompt has a
 * reference answer written from the sample corpus (samples/corpus), and a reply is scored against it
 * by the evaluation stage's own per-sample metric for the prompt's task type (trainers/score_replies.py
 * → eval_metrics.score_sample: ROUGE-L F for summaries, ROUGE-1 F for reasoning answers, label match
 * for classification). The score is posted as the user's feedback, so a reply below collectFeedback's
 * min_score becomes a retraining task, as a real user's low score would.
 */
import type { TaskType } from '../../schemas/generated/types';
import { pythonJson } from '../python-json';

/** A prompt with the answer it should get: the fields score_sample reads. */
export interface ReferencedPrompt {
  prompt: string;
  task_type: TaskType;
  language: 'en' | 'zh';
  reference: string;
  /** The label list a classification prompt offers. */
  labels?: string[];
}

export const DEMO_PROMPTS: readonly ReferencedPrompt[] = [
  {
    prompt: 'Summarise the maintenance findings for pump B in one sentence.',
    task_type: 'summary',
    language: 'en',
    reference: 'The drive-end bearing of pump B is wearing out: vibration rose from 2.1 to 6.8 mm/s and the bearing temperature climbed, so it must be replaced within two weeks.',
  },
  {
    prompt: 'What should be done before pump C carries load, and why?',
    task_type: 'reasoning',
    language: 'en',
    reference: 'The overdue standby test run of pump C must happen first, so that pump C is known to be healthy before it carries load while the bearing of pump B is replaced.',
  },
  {
    prompt: '请用一句话总结第三季度的经营情况。',
    task_type: 'summary',
    language: 'zh',
    reference: '第三季度营业收入12.6亿元，同比增长8.4%，但铜价上涨使毛利率下降1.2个百分点至23.5%。',
  },
  {
    prompt: '铜价上涨会对毛利率产生什么影响？',
    task_type: 'reasoning',
    language: 'zh',
    reference: '铜价上涨使电缆产品的单位成本上升，毛利率因此下降；如果铜价继续上涨，第四季度的毛利率可能再下降0.5个百分点。',
  },
  {
    prompt: 'Classify this incident as equipment failure, missed maintenance or operator error: the standby pump failed to start on demand because its monthly test run was overdue.',
    task_type: 'classification',
    language: 'en',
    reference: 'missed maintenance',
    labels: ['equipment failure', 'missed maintenance', 'operator error'],
  },
];

export interface ReplyScore {
  /** The per-sample quality a perf-index cell averages, in [0, 1]. */
  quality: number;
  /** Every metric score_sample computed (rouge_l, bleu, token_f1, exact_match, label_exact_match). */
  metrics: Record<string, number>;
}

/** Each reply scored against its prompt's reference, in order (one Python process for all of them). */
export async function scoreReplies(items: readonly { task: ReferencedPrompt; output: string }[]): Promise<ReplyScore[]> {
  if (items.length === 0) return [];
  const { scores } = await pythonJson<{ scores: ReplyScore[] }>('trainers.score_replies', { items });
  return scores;
}

