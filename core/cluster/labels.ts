/** Human-readable cluster labels: the terms that set a cluster's prompts apart (class-based TF-IDF). */

const ENGLISH_STOPWORDS = new Set(
  'the and for are but not you your with this that these those from into onto about above below over under than then them they their there here what which who whom whose when where why how all any both each few more most other some such only own same very can will just should would could was were been being have has had does did doing its our ours out off too also per via'.split(' '),
);

const CJK_RUN = /[\u3400-\u9fff\uf900-\ufaff]+/g;
const LATIN_WORD = /[a-z][a-z0-9'-]{2,}/g;

/**
 * Terms of one text, each once: lower-cased Latin words of 3+ letters without stopwords, and
 * character bigrams of every CJK run (Chinese has no spaces; bigrams are the usual unit).
 */
export function terms(text: string): Set<string> {
  const found = new Set<string>();
  const lower = text.toLowerCase();
  for (const word of lower.match(LATIN_WORD) ?? []) if (!ENGLISH_STOPWORDS.has(word)) found.add(word);
  for (const run of lower.match(CJK_RUN) ?? []) {
    const chars = [...run];
    if (chars.length === 1) found.add(chars[0]!);
    for (let i = 0; i + 1 < chars.length; i++) found.add(chars[i]! + chars[i + 1]!);
  }
  return found;
}

/**
 * For each cluster, its `topTerms` highest-scoring terms joined by ' / ': score = share of the
 * cluster's texts containing the term x log(N / texts containing it anywhere), so boilerplate
 * shared by every prompt scores 0. Ties break alphabetically for determinism.
 */
export function clusterLabels(texts: readonly string[], assignments: readonly number[], k: number, topTerms = 3): string[] {
  const termSets = texts.map(terms);
  const documentFrequency = new Map<string, number>();
  for (const set of termSets) for (const t of set) documentFrequency.set(t, (documentFrequency.get(t) ?? 0) + 1);
  const perCluster = Array.from({ length: k }, () => ({ size: 0, counts: new Map<string, number>() }));
  termSets.forEach((set, i) => {
    const c = perCluster[assignments[i]!]!;
    c.size++;
    for (const t of set) c.counts.set(t, (c.counts.get(t) ?? 0) + 1);
  });
  return perCluster.map(({ size, counts }, clusterId) => {
    const ranked = [...counts]
      .map(([term, count]) => ({ term, score: (count / size) * Math.log(texts.length / documentFrequency.get(term)!) }))
      .filter((x) => x.score > 0)
      .sort((a, b) => b.score - a.score || (a.term < b.term ? -1 : 1))
      .slice(0, topTerms)
      .map((x) => x.term);
    return ranked.length > 0 ? ranked.join(' / ') : `cluster ${clusterId}`;
  });
}
