/** Language, sentence and overlap helpers shared by the generators and the quality gates. */
import type { DatasetLanguage } from '../../schemas/generated/types';

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/g;
const LATIN_LETTER = /[A-Za-z]/g;

/** Chinese when CJK ideographs make up at least a fifth of the letters: mixed zh/en text is mostly Chinese prose with English terms. */
export function detectLanguage(text: string): DatasetLanguage {
  const cjk = text.match(CJK)?.length ?? 0;
  const latin = text.match(LATIN_LETTER)?.length ?? 0;
  return cjk > 0 && cjk * 4 >= latin ? 'zh' : 'en';
}

/** Rough token count: a CJK character is about one token, Latin text about four characters per token. */
export function estimateTokens(text: string): number {
  const cjk = text.match(CJK)?.length ?? 0;
  return cjk + Math.ceil((text.length - cjk) / 4);
}

/** Words whose full stop ends an abbreviation, not a sentence ("Dr. Smith", "e.g. pumps", "Fig. 3"). */
const ABBREVIATION_END = /(?:^|[\s(])(?:mr|mrs|ms|dr|prof|st|jr|sr|vs|etc|e\.g|i\.e|cf|fig|figs|no|nos|vol|pp|inc|ltd|co|corp|approx|dept|est|al|u\.s|[a-z])\.$/i;

/**
 * Sentences in order; ends at . ! ? ; 。！？； or a line break. Within a line, a full stop after an
 * abbreviation or an initial, or followed by a lower-case word or a digit, does not end one.
 */
export function splitSentences(text: string): string[] {
  return text.split(/\n+/).flatMap((line) => {
    const sentences: string[] = [];
    for (const piece of line.split(/(?<=[.!?。！？；;])\s+|(?<=[。！？])/u).map((s) => s.trim()).filter(Boolean)) {
      const last = sentences.at(-1);
      if (last !== undefined && /\.$/.test(last) && (ABBREVIATION_END.test(last) || /^[a-z0-9]/.test(piece))) sentences[sentences.length - 1] = `${last} ${piece}`;
      else sentences.push(piece);
    }
    return sentences;
  });
}

/** Lower-cased, whitespace and punctuation removed: what near-duplicate and grounding checks compare. */
export function normalizeForComparison(text: string): string {
  return text.toLowerCase().replace(/[\s\p{P}\p{S}]+/gu, '');
}

/** Share of the target's character bigrams that occur in the source (1 = fully supported by the source). */
export function bigramSupport(target: string, source: string): number {
  const t = normalizeForComparison(target);
  const s = normalizeForComparison(source);
  if (t.length < 2) return t.length === 0 ? 0 : s.includes(t) ? 1 : 0;
  const sourceGrams = new Set<string>();
  for (let i = 0; i + 1 < s.length; i++) sourceGrams.add(s.slice(i, i + 2));
  let hits = 0;
  for (let i = 0; i + 1 < t.length; i++) if (sourceGrams.has(t.slice(i, i + 2))) hits++;
  return hits / (t.length - 1);
}

/** Fewer words (English) or ideographs (Chinese) than this is a label or a fragment, not a sentence. */
const MIN_SENTENCE_WORDS = 5;
const MIN_SENTENCE_CHARS_ZH = 8;

/**
 * A whole prose sentence: starts as a sentence starts (capital, digit, quote, ideograph), ends with
 * terminal punctuation, is long enough, is mostly words (no contents dot leaders, no stray symbols),
 * and closes every bracket it opens.
 */
export function isProseSentence(sentence: string): boolean {
  const s = sentence.trim();
  // Leader dots, or punctuation doubled by extraction ("DB2:." "request..") mean broken text, not a sentence.
  if (/\.\s?\.|[:;,]\./.test(s) || !/[.!?。！？]["”'’)\]]?$/u.test(s)) return false;
  // A bracket closed that was never opened (or the reverse) means the sentence starts or ends elsewhere.
  for (const [open, close] of ['()', '[]', '（）']) if (s.split(open!).length !== s.split(close!).length) return false;
  const letters = s.match(/\p{L}/gu)?.length ?? 0;
  if (letters < s.replace(/\s/g, '').length * 0.6) return false;
  const cjk = s.match(CJK)?.length ?? 0;
  if (cjk > 0 && cjk * 4 >= letters) return cjk >= MIN_SENTENCE_CHARS_ZH;
  return /^[\p{Lu}\p{N}"“'‘(\[]/u.test(s) && s.split(/\s+/).length >= MIN_SENTENCE_WORDS;
}
