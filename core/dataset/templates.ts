/**
 * The rules + templates engine: deterministic drafts of all five task types from any chunk,
 * in the chunk's language (Chinese or English templates), with answers built from the source itself.
 */
import type { DatasetLanguage, StyleGuide, TaskType } from '../../schemas/generated/types';
import type { Chunk } from './chunk';
import type { Draft } from './draft';
import { clip, splitSentences } from './text';

export const TEMPLATE_VERSION = 1;

/** Everything beyond the chunk a template may read. */
export interface TemplateContext {
  taskTypes: readonly TaskType[];
  /** Document taxonomy (top-level headings) used when the style guide has no labels. */
  taxonomy: string[];
  styleGuide?: StyleGuide;
  /** A chunk of another section, for the degraded answer of a ranking pair. */
  distractor?: Chunk;
  seed: number;
}

const SUMMARY_SENTENCES = 3;
const SUMMARY_MAX_CHARS = 600;

type Phrases = Record<DatasetLanguage, (...args: string[]) => string>;

const INSTRUCTIONS = {
  summary: { en: (t) => `Summarize the section "${t}" in two or three sentences.`, zh: (t) => `请用两三句话概括“${t}”这一部分的内容。` } satisfies Phrases,
  tableSummary: { en: (t) => `Summarize what the table "${t}" shows.`, zh: (t) => `请概括表格“${t}”的内容。` } satisfies Phrases,
  documentSummary: { en: (t) => `Summarize the document "${t}" from the opening sentences of its sections.`, zh: (t) => `请根据各部分的首句概括文档“${t}”。` } satisfies Phrases,
  classify: {
    en: (labels) => `Which of these labels apply to the passage? Labels: ${labels}. Answer with a JSON list of the labels that apply.`,
    zh: (labels) => `下面这段文字属于哪些类别？候选类别：${labels}。请用 JSON 列表回答所有适用的类别。`,
  } satisfies Phrases,
  cause: { en: (t, c) => `According to "${t}": given that ${c}, what follows?`, zh: (t, c) => `根据“${t}”：已知${c}，会产生什么结果？` } satisfies Phrases,
  decision: { en: (t, c) => `According to "${t}": given that ${c}, what should be done?`, zh: (t, c) => `根据“${t}”：在${c}的情况下，应该怎么做？` } satisfies Phrases,
  rewriteTerms: {
    en: (domain, rules) => `Rewrite the text in the standard language of the ${domain} domain.${rules ? ` Rules: ${rules}` : ''}`,
    zh: (domain, rules) => `请用${domain}领域的规范用语改写下面的文字。${rules ? `规则：${rules}` : ''}`,
  } satisfies Phrases,
  rewriteTable: { en: (t) => `Rewrite the rows of the table "${t}" as plain sentences.`, zh: (t) => `请把表格“${t}”的各行改写成完整的句子。` } satisfies Phrases,
};

const FORWARD_CAUSAL = /\b(?:therefore|thus|consequently|as a result|hence|which leads to|leading to|results in)\b|所以|因此|导致|从而|因而|使得/i;
const BACKWARD_CAUSAL = /\b(?:because|since|due to|caused by)\b/i;
const LEADING_CAUSE_ZH = /^(?:由于|因为)/;
const RECOMMENDATION = /\b(?:should|must|is recommended|are recommended|need to|needs to)\b|应当|应该|必须|建议|需要/i;

export function templateDrafts(chunk: Chunk, context: TemplateContext): Draft[] {
  const wanted = new Set(context.taskTypes);
  const drafts: Draft[] = [];
  const add = (task_type: TaskType, template: string, fields: Omit<Draft, 'id' | 'chunk_id' | 'task_type' | 'language' | 'engine' | 'generator' | 'round'>) => {
    if (!wanted.has(task_type)) return;
    const generator = `${task_type}.${template}.${chunk.language}@${TEMPLATE_VERSION}`;
    drafts.push({ id: `${chunk.id}:${generator}:${drafts.length}`, chunk_id: chunk.id, task_type, language: chunk.language, engine: 'template', generator, round: 0, ...fields });
  };
  const lang = chunk.language;
  const title = chunk.title || chunk.heading_path.at(-1) || (lang === 'zh' ? '本节' : 'this section');
  const isTable = chunk.kind === 'table' || chunk.kind === 'sheet';

  const isOverview = chunk.kind === 'document';
  const summary = (isTable && tableSummary(chunk.text, lang)) || extractiveSummary(chunk.text);
  const summaryInstruction = (isTable ? INSTRUCTIONS.tableSummary : isOverview ? INSTRUCTIONS.documentSummary : INSTRUCTIONS.summary)[lang](title);
  add('summary', isTable ? 'table' : isOverview ? 'document' : 'section', { instruction: summaryInstruction, passage: chunk.text, source_span: chunk.text, completion: summary });
  const degraded = degradedAnswer(summary, chunk, context);
  if (degraded) {
    add('ranking', degraded.kind, { instruction: summaryInstruction, passage: chunk.text, source_span: chunk.text, completion: summary, chosen: summary, rejected: degraded.text, preference_reason: degraded.reason });
  }
  // The overview repeats sentences of the sections, which already yield the other task types.
  if (isOverview) return drafts;

  const labelling = labelsFor(chunk, context);
  if (labelling) {
    const labelList = labelling.labels.map((l) => `"${l}"`).join(lang === 'zh' ? '、' : ', ');
    add('classification', labelling.source, {
      instruction: INSTRUCTIONS.classify[lang](labelList),
      passage: chunk.text,
      source_span: chunk.text,
      labels: labelling.labels,
      answer_labels: labelling.applied,
      completion: JSON.stringify(labelling.applied),
    });
  }

  // Table rows are not sentences: causal and terminology rules would pair unrelated cells.
  for (const pair of isTable ? [] : causalPairs(chunk.text)) {
    add('reasoning', pair.kind, { instruction: INSTRUCTIONS[pair.kind][lang](title, pair.given), passage: '', source_span: pair.span, completion: pair.follows });
  }

  const rewrite = !isTable && context.styleGuide && styleRewrite(chunk.text, context.styleGuide);
  if (rewrite) {
    add('rewrite', `terms-${context.styleGuide!.domain}`, {
      instruction: INSTRUCTIONS.rewriteTerms[lang](context.styleGuide!.domain, (context.styleGuide!.rules ?? []).join(' ')),
      passage: rewrite.original,
      source_span: rewrite.original,
      completion: rewrite.rewritten,
    });
  }
  if (isTable) {
    const prose = tableAsProse(chunk.text, lang);
    if (prose) add('rewrite', 'table-prose', { instruction: INSTRUCTIONS.rewriteTable[lang](title), passage: chunk.text, source_span: chunk.text, completion: prose });
  }
  return drafts;
}

/** Lead-biased extractive summary: the highest-scoring sentences by content-word frequency, in source order. */
export function extractiveSummary(text: string): string {
  const sentences = splitSentences(text);
  if (sentences.length <= SUMMARY_SENTENCES) return clip(sentences.join(' '), SUMMARY_MAX_CHARS);
  const frequency = new Map<string, number>();
  const termsOf = (s: string) => s.toLowerCase().match(/[a-z]{4,}|[\u3400-\u9fff]{2}/g) ?? [];
  for (const s of sentences) for (const term of termsOf(s)) frequency.set(term, (frequency.get(term) ?? 0) + 1);
  const scored = sentences.map((s, i) => {
    const terms = termsOf(s);
    const score = terms.reduce((sum, t) => sum + (frequency.get(t) ?? 0), 0) / Math.max(4, terms.length) + (i === 0 ? 1 : 0);
    return { s, i, score };
  });
  const picked = scored.sort((a, b) => b.score - a.score || a.i - b.i).slice(0, SUMMARY_SENTENCES).sort((a, b) => a.i - b.i);
  return clip(picked.map((p) => p.s).join(' '), SUMMARY_MAX_CHARS);
}

function labelsFor(chunk: Chunk, context: TemplateContext): { labels: string[]; applied: string[]; source: string } | undefined {
  const guideLabels = context.styleGuide?.labels;
  if (guideLabels?.length) {
    const text = chunk.text.toLowerCase();
    const applied = guideLabels.filter((l) => l.keywords.some((k) => text.includes(k.toLowerCase()))).map((l) => l.label);
    return applied.length ? { labels: guideLabels.map((l) => l.label), applied, source: `keywords-${context.styleGuide!.domain}` } : undefined;
  }
  const applied = context.taxonomy.filter((label) => chunk.heading_path.includes(label));
  return applied.length && context.taxonomy.length >= 2 ? { labels: context.taxonomy, applied, source: 'taxonomy' } : undefined;
}

interface CausalPair {
  kind: 'cause' | 'decision';
  given: string;
  follows: string;
  span: string;
}

/** Cause → effect pairs split at a causal connective, and situation → recommended action pairs. */
export function causalPairs(text: string): CausalPair[] {
  const pairs: CausalPair[] = [];
  const sentences = splitSentences(text);
  sentences.forEach((sentence, i) => {
    const forward = sentence.match(FORWARD_CAUSAL);
    const backward = sentence.match(BACKWARD_CAUSAL);
    if (LEADING_CAUSE_ZH.test(sentence)) {
      const cut = sentence.search(/[，,]/);
      if (cut > 2) pairs.push(pair('cause', sentence.slice(2, cut), sentence.slice(cut + 1), sentence));
    } else if (forward && forward.index! > 0) {
      pairs.push(pair('cause', sentence.slice(0, forward.index), sentence.slice(forward.index! + forward[0].length), sentence));
    } else if (backward && backward.index! > 0) {
      pairs.push(pair('cause', sentence.slice(backward.index! + backward[0].length), sentence.slice(0, backward.index), sentence));
    } else if (RECOMMENDATION.test(sentence) && i > 0) {
      pairs.push(pair('decision', sentences[i - 1]!, sentence, `${sentences[i - 1]} ${sentence}`));
    }
  });
  return pairs.filter((p) => p.given.length >= 8 && p.follows.length >= 8);
}

function pair(kind: CausalPair['kind'], given: string, follows: string, span: string): CausalPair {
  const tidy = (s: string) => s.trim().replace(/^[,，:：;；\s]+|[,，;；\s]+$/g, '');
  const g = tidy(given).replace(/[.。!！?？]$/, '');
  const f = tidy(follows);
  return { kind, given: /^[A-Z][a-z]/.test(g) ? g[0]!.toLowerCase() + g.slice(1) : g, follows: /^[a-z]/.test(f) ? f[0]!.toUpperCase() + f.slice(1) : f, span };
}

/** The chunk's sentences that use non-standard wording, and the same sentences in the guide's terms. */
export function styleRewrite(text: string, guide: StyleGuide): { original: string; rewritten: string } | undefined {
  const rules = guide.terminology.map((t) => ({ pattern: termPattern(t.from), to: t.to }));
  const hits = splitSentences(text).filter((s) => rules.some((r) => r.pattern.test(s)));
  if (!hits.length) return undefined;
  const original = clip(hits.join(' '), 800);
  const rewritten = rules.reduce((s, r) => s.replace(r.pattern, r.to), original);
  return rewritten === original ? undefined : { original, rewritten };
}

function termPattern(term: string): RegExp {
  const escaped = term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // Word boundaries only make sense for Latin terms; Chinese has no spaces between words.
  return /^[\w\s'.-]+$/.test(term) ? new RegExp(`(?<![\\w])${escaped}(?![\\w])`, 'gi') : new RegExp(escaped, 'g');
}

/** The table's shape and its first rows in words. */
export function tableSummary(text: string, lang: DatasetLanguage): string | undefined {
  const rows = text.split('\n');
  const header = rows[0]!.split('|').map((c) => c.trim()).filter(Boolean);
  const prose = tableAsProse(rows.slice(0, 3).join('\n'), lang);
  if (!prose) return undefined;
  return lang === 'zh'
    ? `该表有${rows.length - 1}行数据，列为${header.join('、')}。${prose}`
    : `The table has ${rows.length - 1} data rows with the columns ${header.join(', ')}. ${prose}`;
}

/** Table text (rows by newline, cells by ' | ') as "header is value" sentences; the first row is the header. */
export function tableAsProse(text: string, lang: DatasetLanguage): string | undefined {
  const rows = text.split('\n').map((r) => r.split('|').map((c) => c.trim()));
  const header = rows[0];
  if (!header || rows.length < 2 || header.length < 2) return undefined;
  const sentences = rows.slice(1, 9).flatMap((row) => {
    const facts = row.flatMap((cell, i) => (cell && header[i] ? [lang === 'zh' ? `${header[i]}为${cell}` : `${header[i]} is ${cell}`] : []));
    return facts.length >= 2 ? [lang === 'zh' ? `${facts.join('，')}。` : `${facts.join(', ')}.`] : [];
  });
  return sentences.length ? sentences.join(lang === 'zh' ? '' : ' ') : undefined;
}

/** A worse answer by construction: another section's summary (off-topic) or the summary cut short (incomplete). */
function degradedAnswer(summary: string, chunk: Chunk, context: TemplateContext): { kind: string; text: string; reason: string } | undefined {
  const offTopic = context.distractor && extractiveSummary(context.distractor.text);
  if (offTopic && offTopic !== summary && (context.seed + chunk.block_ids.length) % 2 === 0) {
    return { kind: 'off-topic', text: offTopic, reason: `rejected answers section "${context.distractor!.title}" instead of the one asked about` };
  }
  const first = splitSentences(summary)[0] ?? summary;
  const cut = first.slice(0, Math.floor(first.length / 2)).trim();
  if (cut.length < 8 || cut === summary) return undefined;
  return { kind: 'truncated', text: cut, reason: 'rejected answer stops mid-sentence and omits the rest of the summary' };
}
