/** Script-aware text joining for the PDF layout code. Hangul is left out on purpose: Korean separates words with spaces. */

const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]/;

export function isCjk(ch: string | undefined): boolean {
  return ch !== undefined && CJK.test(ch);
}

/**
 * Joins two pieces of running text. Chinese and Japanese never get a space between characters;
 * a word broken by a hyphen at a line end is rejoined when the next line continues in lower case.
 */
export function joinText(left: string, right: string): string {
  if (!left) return right;
  if (!right) return left;
  const last = left[left.length - 1]!;
  const first = right[0]!;
  if (/\s/.test(last) || /\s/.test(first)) return left + right;
  if (isCjk(last) && isCjk(first)) return left + right;
  return `${left} ${right}`;
}

/** Line join for paragraphs: de-hyphenates "exam-" + "ple" into "example". */
export function joinLines(left: string, right: string): string {
  if (/[A-Za-z\u00c0-\u024f]-$/.test(left) && /^[a-z\u00df-\u00ff]/.test(right)) return left.slice(0, -1) + right;
  const last = left[left.length - 1];
  if (isCjk(last) && isCjk(right[0])) return left + right;
  return joinText(left, right);
}
