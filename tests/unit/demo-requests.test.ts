import { DEMO_PROMPTS, scoreReplies, type ReferencedPrompt, type ReplyScore } from '../../core/report/demo-requests';

/** collectFeedback's selection bar as the demo sets it: a score below it makes a retraining task. */
const BAR = 0.5;
const summary = DEMO_PROMPTS.find((p) => p.task_type === 'summary' && p.language === 'en')!;
const classification = DEMO_PROMPTS.find((p) => p.task_type === 'classification')!;

describe("make demo's reply scores (the evaluation metric against each prompt's reference)", () => {
  let right: ReplyScore[];
  let poor: ReplyScore[];
  let partial: ReplyScore;
  let wrongLabel: ReplyScore;
  let rightLabel: ReplyScore;

  // One Python process for every case: its start alone takes seconds on a busy machine.
  beforeAll(async () => {
    const items: { task: ReferencedPrompt; output: string }[] = [
      ...DEMO_PROMPTS.map((task) => ({ task, output: task.reference })),
      ...DEMO_PROMPTS.map((task) => ({ task, output: task.language === 'zh' ? '我不知道。' : 'I do not know.' })),
      { task: summary, output: 'The bearing of pump B is wearing out and must be replaced.' },
      { task: classification, output: 'This is an equipment failure.' },
      { task: classification, output: 'Missed maintenance: the test run was overdue.' },
    ];
    const scores = await scoreReplies(items);
    expect(scores).toHaveLength(items.length);
    right = scores.slice(0, DEMO_PROMPTS.length);
    poor = scores.slice(DEMO_PROMPTS.length, 2 * DEMO_PROMPTS.length);
    [partial, wrongLabel, rightLabel] = scores.slice(2 * DEMO_PROMPTS.length) as [ReplyScore, ReplyScore, ReplyScore];
  }, 60_000);

  it('scores the reference answer itself 1 and a non-answer below the bar, for every demo prompt', () => {
    expect(right.map((s) => s.quality)).toEqual(DEMO_PROMPTS.map(() => 1));
    for (const score of poor) expect(score.quality).toBeLessThan(BAR);
  });

  it('scores by task type as the evaluation does: ROUGE-L for a summary, label match for a classification', () => {
    expect(Object.keys(partial.metrics).sort()).toEqual(['bleu', 'rouge_l']);
    expect(partial.quality).toBe(partial.metrics.rouge_l);
    expect(partial.quality).toBeGreaterThan(0.2);
    expect(partial.quality).toBeLessThan(1);
    expect(wrongLabel).toEqual({ quality: 0, metrics: { label_exact_match: 0 } });
    expect(rightLabel).toEqual({ quality: 1, metrics: { label_exact_match: 1 } });
  });

  it('has a reference answer for every demo prompt (a classification prompt names its labels)', () => {
    for (const p of DEMO_PROMPTS) {
      expect(p.reference.trim()).not.toBe('');
      if (p.task_type === 'classification') for (const label of p.labels ?? []) expect(p.prompt).toContain(label);
    }
    expect(classification.labels).toContain(classification.reference);
  });
});
