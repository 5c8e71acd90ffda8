/**
 * The rules + templates engine: deterministic drafts of all five task types from any chunk, in the
 * chunk's language (Chinese or English templates), with answers built from the source itself so that
 * each one is true by construction: table statements pair a header with a value of the same row,
 * class labels are the sections that hold the passage, reasoning pairs are whole clauses the source
 * itself links, summaries are whole sentences. Where a template cannot meet that, it emits a refused
 * draft with its reason instead of a sample, so the manifest counts what was left out and why.
 */
import nlp from 'compromise';
import type { DatasetLanguage, StyleGuide, TaskType } from '../../schemas/generated/types';
import type { Chunk } from './types';
import type { Draft, DraftRefusal } from './draft';
import { isFigure, type TableView } from './table-view';
import { isProseSentence, splitSentences } from './text';

export const TEMPLATE_VERSION = 2;
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
const REWRITE_MAX_CHARS = 800;
/** Least share of a text's characters in prose sentences for a lead summary of it. */
const MIN_PROSE_SHARE = 0.5;

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

/** A sentence opening with one of these concludes from the sentence before it (the source's own sentence pair). */
const CONCLUDING_OPENER = /^(?:therefore|thus|consequently|as a result|hence|accordingly|for this reason)\b[,\s]*/i;
const CONCLUDING_OPENER_ZH = /^(?:因此|所以|因而|由此可见|故而)[，,]?/;
/** Clause, then a connective that introduces a clause: "X, so Y" / "X; therefore Y". */
const INNER_CONCLUSION = /[,;]\s*(?:and\s+)?(?:so|therefore|thus|consequently|hence)\b[,\s]*/i;
const INNER_CONCLUSION_ZH = /[，,；;](?:所以|因此|因而|从而)/;
/**
 * "Y because X": because/since introduce a clause (due to / caused by introduce a noun phrase, and are
 * not used); "since" before a year or a time ("since 2005") is about time, not cause.
 */
const TRAILING_CAUSE = /\s(?:because|since)\s(?![\d(]|then\b|the (?:early|late|beginning|start|end)\b)/i;
const LEADING_CAUSE = /^(?:because|since)\s+(?![\d(]|then\b|the (?:early|late|beginning|start|end)\b)/i;
const LEADING_CAUSE_ZH = /^(?:由于|因为)/;
/**
 * A recommendation addressed to someone who acts ("operators should", "it is recommended"), not a
 * modal that states a rule or how a thing behaves ("the first parameter must be", "this message
 * should only appear").
 */
const RECOMMENDATION =
  /\b(?:we|you|users?|operators?|administrators?|staff|employees|managers?|companies|businesses|organi[sz]ations|teams?|customers|clients)\s+(?:should|must|need to|ought to)\b|\b(?:it is|we) (?:recommend(?:ed)?|advis(?:e|able)|best practice)\b|\bis recommended\b|应当|应该|建议/i;
/** A premise that opens with a pronoun (or an aside to the reader) leans on a sentence the question does not show. */
const LEADING_PRONOUN = /^(?:it|this|that|these|those|they|he|she|its|their|such|notice|note|see|consider)\b|^(?:它|这|该|此|其|他们|她们)/i;
/** A clause of fewer words than this is a fragment ("costs rose" is two, and rare enough to lose). */
const MIN_CLAUSE_WORDS = 3;
const MIN_CLAUSE_CHARS_ZH = 4;
/** A recommendation's modal stands within its first words: the subject, then "should"/"must". */
const RECOMMENDATION_HEAD_WORDS = 6;
const RECOMMENDATION_HEAD_CHARS_ZH = 12;

export function templateDrafts(chunk: Chunk, context: TemplateContext): Draft[] {
  const wanted = new Set(context.taskTypes);
  const drafts: Draft[] = [];
  const lang = chunk.language;
  const draftOf = (task_type: TaskType, template: string) => {
    const generator = `${task_type}.${template}.${lang}@${TEMPLATE_VERSION}`;
    return { id: `${chunk.id}:${generator}:${drafts.length}`, chunk_id: chunk.id, task_type, language: lang, engine: 'template' as const, generator, round: 0 };
  };
  const add = (task_type: TaskType, template: string, fields: Omit<Draft, 'id' | 'chunk_id' | 'task_type' | 'language' | 'engine' | 'generator' | 'round'>) => {
    if (wanted.has(task_type)) drafts.push({ ...draftOf(task_type, template), ...fields });
  };
  const refuse = (task_type: TaskType, template: string, refusal: DraftRefusal) => {
    if (wanted.has(task_type)) drafts.push({ ...draftOf(task_type, template), instruction: '', passage: '', source_span: chunk.text, refusal });
  };
  const title = chunk.title || chunk.heading_path.at(-1) || (lang === 'zh' ? '本节' : 'this section');
  const isTable = chunk.kind === 'table' || chunk.kind === 'sheet';
  const isOverview = chunk.kind === 'document';

  const summary = isTable ? (chunk.table ? tableSummary(chunk.table, title, lang) : undefined) : chunk.list_items ? listSummary(chunk.list_items, lang) : extractiveSummary(chunk.text);
  const summaryTemplate = isTable ? 'table' : isOverview ? 'document' : chunk.list_items ? 'list' : 'section';
  const summaryInstruction = (isTable ? INSTRUCTIONS.tableSummary : isOverview ? INSTRUCTIONS.documentSummary : INSTRUCTIONS.summary)[lang](title);
  if (summary) {
    add('summary', summaryTemplate, { instruction: summaryInstruction, passage: chunk.text, source_span: chunk.text, completion: summary });
    const degraded = degradedAnswer(summary, chunk, context);
    if (degraded) {
      add('ranking', degraded.kind, { instruction: summaryInstruction, passage: chunk.text, source_span: chunk.text, completion: summary, chosen: summary, rejected: degraded.text, preference_reason: degraded.reason });
    }
  } else {
    const refusal: DraftRefusal = isTable
      ? { reason: 'table_without_header', detail: 'no header row could be told from the data, so no statement about the table would be known true' }
      : { reason: 'no_whole_sentence_summary', detail: `no whole sentence fits ${SUMMARY_MAX_CHARS} characters` };
    refuse('summary', summaryTemplate, refusal);
    refuse('ranking', summaryTemplate, refusal);
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
  if (!isTable) {
    for (const pair of causalPairs(chunk.text)) {
      if ('refusal' in pair) refuse('reasoning', pair.kind, pair.refusal);
      else add('reasoning', pair.kind, { instruction: INSTRUCTIONS[pair.kind][lang](title, pair.given), passage: '', source_span: pair.span, completion: pair.follows });
    }
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
  if (chunk.table) {
    const prose = tableAsProse(chunk.table, lang);
    if (prose) add('rewrite', 'table-prose', { instruction: INSTRUCTIONS.rewriteTable[lang](title), passage: chunk.text, source_span: chunk.text, completion: prose });
  }
  return drafts;
}

/**
 * Lead summary: the first prose sentences, in order, whole and within the character budget (a
 * sentence that does not fit is left out, never cut). Lines that are not sentences (labels, names,
 * cut-off fragments, contents entries) are skipped. Empty when the text is not mostly prose.
 */
export function extractiveSummary(text: string): string {
  const prose = splitSentences(text).filter(isProseSentence);
  // Mostly labels, codes and fragments (a form, a code listing read as text): one sentence of it is no summary.
  if (prose.reduce((n, s) => n + s.length, 0) < text.replace(/\s+/g, ' ').length * MIN_PROSE_SHARE) return '';
  const picked: string[] = [];
  let chars = 0;
  for (const sentence of prose) {
    if (picked.length === SUMMARY_SENTENCES) break;
    if (chars + sentence.length + 1 > SUMMARY_MAX_CHARS) continue;
    picked.push(sentence);
    chars += sentence.length + 1;
  }
  return picked.join(/[\u3400-\u9fff]/.test(text) ? '' : ' ');
}

/** A list item shown in a summary: its label before a colon ("Artificial Intelligence: ..."), or the item when short. */
const LIST_LABEL = /^([^:：]{2,60})[:：]\s*\S/;
const MAX_LIST_ITEM_CHARS = 120;

/** A list says it is one: how many items, and the first ones, each by its label or whole. */
export function listSummary(items: string[], lang: DatasetLanguage): string | undefined {
  const shown: string[] = [];
  let chars = 0;
  for (const item of items) {
    const label = LIST_LABEL.exec(item)?.[1]?.trim() ?? (item.length <= MAX_LIST_ITEM_CHARS ? item.replace(/[.;。；]$/, '') : undefined);
    if (!label) continue;
    if (shown.length === 5 || chars + label.length > SUMMARY_MAX_CHARS - 80) break;
    shown.push(label);
    chars += label.length + 2;
  }
  if (!shown.length) return undefined;
  const rest = items.length - shown.length;
  return lang === 'zh'
    ? `这是一个包含${items.length}项的列表：${shown.join('；')}${rest ? `；以及另外${rest}项` : ''}。`
    : `A list of ${items.length} items: ${shown.join('; ')}${rest ? `; and ${rest} more` : ''}.`;
}

/**
 * Labels and the passage's true answer. With a style guide's label set, a label applies when its
 * keywords name a section that encloses the passage; otherwise the labels are the document's sections
 * (its taxonomy) and the answer is the ones that enclose it. Either way the answer is where the
 * passage stands in the document, not which words it happens to use.
 */
function labelsFor(chunk: Chunk, context: TemplateContext): { labels: string[]; applied: string[]; source: string } | undefined {
  const guideLabels = context.styleGuide?.labels;
  if (guideLabels?.length) {
    const headings = chunk.heading_path.map((h) => h.toLowerCase());
    const applied = guideLabels.filter((l) => l.keywords.some((k) => headings.some((h) => h.includes(k.toLowerCase())))).map((l) => l.label);
    return applied.length ? { labels: guideLabels.map((l) => l.label), applied, source: `sections-${context.styleGuide!.domain}` } : undefined;
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

type CausalCandidate = CausalPair | { kind: 'cause' | 'decision'; refusal: DraftRefusal };

/**
 * Premise → conclusion pairs the source states itself, both whole clauses: a sentence and the next
 * one that opens with "Therefore"/"因此"; "X, so Y"; "Y because X" / "Because X, Y" (由于X，Y); and a
 * situation followed by a recommendation (should/must/应当). A side that is a noun phrase rather than
 * a clause ("due to the crisis") is refused with its reason.
 */
export function causalPairs(text: string): CausalCandidate[] {
  const candidates: CausalCandidate[] = [];
  const sentences = splitSentences(text);
  sentences.forEach((sentence, i) => {
    const previous = i > 0 ? sentences[i - 1]! : undefined;
    const concluding = sentence.match(CONCLUDING_OPENER) ?? sentence.match(CONCLUDING_OPENER_ZH);
    const inner = sentence.match(INNER_CONCLUSION) ?? sentence.match(INNER_CONCLUSION_ZH);
    const trailing = sentence.match(TRAILING_CAUSE);
    if (concluding && previous) {
      candidates.push(clausePair('cause', previous, sentence.slice(concluding[0].length), `${previous} ${sentence}`));
    } else if (LEADING_CAUSE_ZH.test(sentence)) {
      const cut = sentence.search(/[，,]/);
      if (cut > 2) candidates.push(clausePair('cause', sentence.slice(2, cut), sentence.slice(cut + 1).replace(/^(?:所以|因此|因而)/, ''), sentence));
    } else if (LEADING_CAUSE.test(sentence)) {
      const body = sentence.replace(LEADING_CAUSE, '');
      const cut = body.indexOf(', ');
      if (cut > 0) candidates.push(clausePair('cause', body.slice(0, cut), body.slice(cut + 2), sentence));
    } else if (inner && inner.index! > 0) {
      candidates.push(clausePair('cause', sentence.slice(0, inner.index), sentence.slice(inner.index! + inner[0].length), sentence));
    } else if (trailing && trailing.index! > 0) {
      candidates.push(clausePair('cause', sentence.slice(trailing.index! + trailing[0].length), sentence.slice(0, trailing.index), sentence));
    } else if (isRecommendation(sentence) && previous && !/[:：]$/.test(previous)) {
      candidates.push(clausePair('decision', previous, sentence, `${previous} ${sentence}`));
    }
  });
  return candidates;
}

/** The modal is the main clause's ("Every alarm must be logged"), not a subordinate one's ("how many lines a cap should use"). */
function isRecommendation(sentence: string): boolean {
  const match = sentence.match(RECOMMENDATION);
  if (!match) return false;
  if (/[\u3400-\u9fff]/.test(sentence)) return match.index! <= RECOMMENDATION_HEAD_CHARS_ZH;
  return sentence.slice(0, match.index).split(/\s+/).filter(Boolean).length < RECOMMENDATION_HEAD_WORDS && !/^(?:if|when|in|how|what|whether|although)\b/i.test(sentence);
}

function clausePair(kind: CausalPair['kind'], given: string, follows: string, span: string): CausalCandidate {
  const tidy = (s: string) => s.trim().replace(/^[,，:：;；\s]+|[,，;；\s]+$/g, '');
  const g = tidy(given).replace(/[.。!！?？]$/, '');
  const f = tidy(follows);
  for (const [side, clause] of [['premise', g], ['conclusion', f]] as const) {
    const problem = clauseProblem(clause);
    if (problem) return { kind, refusal: { reason: 'reasoning_fragment', detail: `${side} "${clause.slice(0, 80)}" ${problem}` } };
  }
  if (LEADING_PRONOUN.test(g)) return { kind, refusal: { reason: 'reasoning_needs_context', detail: `premise "${g.slice(0, 80)}" opens with a word whose referent the question does not show` } };
  // The source sentence must end where it says it does: one cut at a line break is not a whole sentence.
  if (!/[.。!！?？]["”')\]]?$/.test(span.trim())) return { kind, refusal: { reason: 'reasoning_fragment', detail: `source "${span.slice(-80)}" does not end a sentence` } };
  const conclusion = /[.。!！?？]$/.test(f) ? f : `${f}${/[\u3400-\u9fff]/.test(f) ? '。' : '.'}`;
  return { kind, given: /^[A-Z][a-z]/.test(g) ? g[0]!.toLowerCase() + g.slice(1) : g, follows: /^[a-z]/.test(conclusion) ? conclusion[0]!.toUpperCase() + conclusion.slice(1) : conclusion, span };
}

/** Why a text is not a whole clause: too short, or (English) no verb, so a noun phrase. */
function clauseProblem(text: string): string | undefined {
  if (/[\u3400-\u9fff]/.test(text)) return (text.match(/[\u3400-\u9fff]/g)?.length ?? 0) < MIN_CLAUSE_CHARS_ZH ? 'is too short to be a clause' : undefined;
  if (text.split(/\s+/).filter(Boolean).length < MIN_CLAUSE_WORDS) return 'is too short to be a clause';
  // A gerund alone ("exposing records") heads a phrase, not a clause: a finite verb is needed.
  return nlp(text).match('#Verb').not('#Gerund').found ? undefined : 'has no finite verb: a phrase, not a clause';
}

/** The chunk's sentences that use non-standard wording, and the same sentences in the guide's terms. */
export function styleRewrite(text: string, guide: StyleGuide): { original: string; rewritten: string } | undefined {
  const rules = guide.terminology.map((t) => ({ pattern: termPattern(t.from), to: t.to }));
  const hits = splitSentences(text).filter((s) => rules.some((r) => r.pattern.test(s)));
  const kept: string[] = [];
  for (const hit of hits) if (kept.join(' ').length + hit.length < REWRITE_MAX_CHARS) kept.push(hit);
  if (!kept.length) return undefined;
  const original = kept.join(' ');
  const rewritten = rules.reduce((s, r) => s.replace(r.pattern, (found) => inCaseOf(found, r.to)), original);
  return rewritten === original ? undefined : { original, rewritten };
}

/** The replacement in the case the text used: "INFO" becomes "INFORMATION", "Info" becomes "Information". */
function inCaseOf(found: string, replacement: string): string {
  if (/\p{Lu}/u.test(found) && found === found.toUpperCase()) return replacement.toUpperCase();
  if (/^\p{Lu}/u.test(found)) return replacement[0]!.toUpperCase() + replacement.slice(1);
  return replacement;
}

function termPattern(term: string): RegExp {
  const escaped = term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // Word boundaries only make sense for Latin terms; Chinese has no spaces between words.
  return /^[\w\s'.-]+$/.test(term) ? new RegExp(`(?<![\\w])${escaped}(?![\\w])`, 'gi') : new RegExp(escaped, 'g');
}

/** Fewer numeric values than this in a column say nothing about its range. */
const MIN_RANGE_VALUES = 2;
const MAX_RANGE_COLUMNS = 3;
const TABLE_PROSE_ROWS = 8;
/** A totals row is the sum of the others, not one more value in a column's range. */
const TOTAL_ROW = /^(?:(?:grand |sub)?totals?|sum|合计|总计|小计|共计)\b/i;

/**
 * True facts about a table: its columns, its row count, and the range of each all-numeric column
 * (with the rows that hold the extremes when the first column names the rows; a totals row is not
 * counted). Values are quoted as the document shows them.
 */
export function tableSummary(view: TableView, title: string, lang: DatasetLanguage): string | undefined {
  const named = view.columns.filter(Boolean);
  if (named.length < 2) return undefined;
  const rowNames = !isFigure(view.rows[0]?.[0] ?? '') && view.columns[0] ? view.rows.map((r) => r[0] ?? '') : undefined;
  const ranges: string[] = [];
  view.columns.forEach((column, col) => {
    if (col === 0 || !column || IDENTIFIER_COLUMN.test(column) || ranges.length === MAX_RANGE_COLUMNS) return;
    const values = view.rows
      .map((r, row) => ({ text: r[col] ?? '', value: numericValue(r[col] ?? ''), row }))
      .filter((v) => v.text && !(rowNames && TOTAL_ROW.test(rowNames[v.row]!)));
    if (values.length < MIN_RANGE_VALUES || values.some((v) => v.value === undefined)) return;
    const sorted = [...values].sort((a, b) => a.value! - b.value!);
    const low = sorted[0]!;
    const high = sorted.at(-1)!;
    if (low.value === high.value) return;
    const at = (v: typeof low) => (rowNames?.[v.row] ? (lang === 'zh' ? `（${rowNames[v.row]}）` : ` (${rowNames[v.row]})`) : '');
    ranges.push(lang === 'zh' ? `${column}从${low.text}${at(low)}到${high.text}${at(high)}` : `${column} ranges from ${low.text}${at(low)} to ${high.text}${at(high)}`);
  });
  const rows = view.rows.length;
  if (lang === 'zh') return `表格“${title}”有${rows}行数据，列为${named.join('、')}。${ranges.length ? `${ranges.join('；')}。` : ''}`;
  const shape = `The table "${title}" has ${rows} data row${rows === 1 ? '' : 's'} with the columns ${named.join(', ')}.`;
  return ranges.length ? `${shape} ${ranges.join('; ')}.` : shape;
}

/**
 * A displayed quantity's value: thousands separators (1,234.5 or 1.234,5), a decimal comma (0,19),
 * currency and percent signs, (x) as negative. Codes are not quantities: leading zeros, dates, ranges
 * and anything ambiguous give undefined.
 */
function numericValue(text: string): number | undefined {
  const t = text.trim();
  if (!isFigure(t) || /\d[\s/:]\d|\d-\d/.test(t)) return undefined;
  const negative = /^\(.*\)$/.test(t) || /^[-–]/.test(t);
  const digits = t.replace(/[^\d.,]/g, '');
  if (/^0\d/.test(digits)) return undefined;
  let normal: string | undefined;
  if (/^\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(digits) || /^\d+(?:\.\d+)?$/.test(digits)) normal = digits.replace(/,/g, '');
  else if (/^\d{1,3}(?:\.\d{3})+,\d+$/.test(digits) || /^\d+,\d{1,2}$/.test(digits)) normal = digits.replace(/\./g, '').replace(',', '.');
  return normal === undefined ? undefined : (negative ? -1 : 1) * Number(normal);
}

/** A column of identifiers (ids, codes, item numbers): their range says nothing. */
const IDENTIFIER_COLUMN = /(?:^|\b)(?:ids?|no\.?|nr\.?|nos?|number|code|pos|sku|#|item|index|artikelnr|编号|序号)(?:\b|$)/i;

/** The first rows of a table as "header is value" sentences, each pair the header and value of one row (led by the row's name when the table names its rows). */
export function tableAsProse(view: TableView, lang: DatasetLanguage): string | undefined {
  // An unnamed first column names the rows (a chart's categories, a year per row): it leads its row's sentence.
  const rowLabels = !view.columns[0] && view.rows.every((r) => r[0]);
  const sentences = view.rows.slice(0, TABLE_PROSE_ROWS).flatMap((row) => {
    const facts = row.flatMap((cell, i) => (cell && view.columns[i] ? [lang === 'zh' ? `${view.columns[i]}为${cell}` : `${view.columns[i]} is ${cell}`] : []));
    if (facts.length < (rowLabels ? 1 : 2)) return [];
    const sentence = `${rowLabels ? `${row[0]}${lang === 'zh' ? '：' : ': '}` : ''}${facts.join(lang === 'zh' ? '，' : ', ')}`;
    // A value that ends a sentence of its own already ends this one.
    return [/[.!?。！？]$/.test(sentence) ? sentence : `${sentence}${lang === 'zh' ? '。' : '.'}`];
  });
  return sentences.length ? sentences.join(lang === 'zh' ? '' : ' ') : undefined;
}

/** A worse answer by construction: another section's summary (off-topic) or the summary cut short (incomplete). */
function degradedAnswer(summary: string, chunk: Chunk, context: TemplateContext): { kind: string; text: string; reason: string } | undefined {
  const distractor = context.distractor;
  const offTopic = distractor && (distractor.table ? tableSummary(distractor.table, distractor.title, distractor.language) : distractor.kind === 'table' || distractor.kind === 'sheet' ? undefined : extractiveSummary(distractor.text));
  if (offTopic && offTopic !== summary && (context.seed + chunk.block_ids.length) % 2 === 0) {
    return { kind: 'off-topic', text: offTopic, reason: `rejected answers section "${distractor!.title}" instead of the one asked about` };
  }
  const first = splitSentences(summary)[0] ?? summary;
  const cut = first.slice(0, Math.floor(first.length / 2)).trim();
  if (cut.length < 8 || cut === summary) return undefined;
  return { kind: 'truncated', text: cut, reason: 'rejected answer stops mid-sentence and omits the rest of the summary' };
}
