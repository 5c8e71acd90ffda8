import { childElements, firstChild, type XmlElement } from './xml';

interface LevelFormat {
  format: string;
  text: string;
  start: number;
}

/**
 * Word list numbering (word/numbering.xml): which numId/ilvl pairs are bullets or numbers, and the
 * visible marker of each numbered paragraph, counting per abstract list the way Word does
 * (a shallower item resets the deeper counters).
 */
export class ListNumbering {
  private readonly abstractOf = new Map<string, string>();
  private readonly levels = new Map<string, Map<number, LevelFormat>>();
  private readonly counters = new Map<string, number[]>();

  constructor(root: XmlElement | undefined) {
    if (!root) return;
    for (const abstract of childElements(root, 'w:abstractNum')) {
      const levels = new Map<number, LevelFormat>();
      for (const lvl of childElements(abstract, 'w:lvl')) {
        levels.set(Number(lvl.attrs['w:ilvl'] ?? 0), {
          format: firstChild(lvl, 'w:numFmt')?.attrs['w:val'] ?? 'decimal',
          text: firstChild(lvl, 'w:lvlText')?.attrs['w:val'] ?? '',
          start: Number(firstChild(lvl, 'w:start')?.attrs['w:val'] ?? 1),
        });
      }
      this.levels.set(abstract.attrs['w:abstractNumId'] ?? '', levels);
    }
    for (const num of childElements(root, 'w:num')) {
      this.abstractOf.set(num.attrs['w:numId'] ?? '', firstChild(num, 'w:abstractNumId')?.attrs['w:val'] ?? '');
    }
  }

  /** Ordered/marker for one list paragraph, advancing the counters; undefined when numId is not a list. */
  next(numId: string, ilvl: number): { ordered: boolean; marker: string } | undefined {
    const abstractId = this.abstractOf.get(numId);
    if (numId === '0' || abstractId === undefined) return undefined;
    const levels = this.levels.get(abstractId) ?? new Map<number, LevelFormat>();
    const level = levels.get(ilvl) ?? { format: 'decimal', text: `%${ilvl + 1}.`, start: 1 };
    if (level.format === 'bullet' || level.format === 'none') return { ordered: false, marker: level.format === 'bullet' ? '-' : '' };
    const counters = this.counters.get(abstractId) ?? [];
    counters[ilvl] = counters[ilvl] === undefined ? level.start : counters[ilvl]! + 1;
    counters.length = ilvl + 1;
    this.counters.set(abstractId, counters);
    const marker = level.text.replace(/%(\d)/g, (_m, n: string) => {
      const at = Number(n) - 1;
      const fmt = levels.get(at)?.format ?? 'decimal';
      return formatNumber(counters[at] ?? levels.get(at)?.start ?? 1, fmt);
    });
    return { ordered: true, marker };
  }
}

function formatNumber(n: number, format: string): string {
  switch (format) {
    case 'lowerLetter':
      return letters(n).toLowerCase();
    case 'upperLetter':
      return letters(n);
    case 'lowerRoman':
      return roman(n).toLowerCase();
    case 'upperRoman':
      return roman(n);
    default:
      return String(n);
  }
}

function letters(n: number): string {
  const letter = String.fromCharCode(65 + ((n - 1) % 26));
  return letter.repeat(Math.floor((n - 1) / 26) + 1);
}

function roman(n: number): string {
  const table: [number, string][] = [[1000, 'M'], [900, 'CM'], [500, 'D'], [400, 'CD'], [100, 'C'], [90, 'XC'], [50, 'L'], [40, 'XL'], [10, 'X'], [9, 'IX'], [5, 'V'], [4, 'IV'], [1, 'I']];
  let out = '';
  for (const [value, symbol] of table) while (n >= value) (out += symbol), (n -= value);
  return out;
}
