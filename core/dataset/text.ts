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

/** Sentences in order; ends at . ! ? 。！？ or a line break. */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?。！？；;])\s+|(?<=[。！？])|\n+/u)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
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

/** Clips at a sentence boundary when one falls in the last third, so a clipped text still reads as prose. */
export function clip(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const head = text.slice(0, maxChars);
  const boundary = Math.max(...['. ', '。', '！', '？', '\n'].map((b) => head.lastIndexOf(b)));
  return boundary > maxChars * 0.66 ? head.slice(0, boundary + 1).trim() : head.trim();
}
