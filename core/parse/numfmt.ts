/**
 * Excel number formats: the text a cell shows for its value and format code (what Excel's TEXT()
 * returns), as pure functions. Covers the built-in formats 0-49 (en-US rendering of the
 * locale-dependent ones) and custom codes: up to four sections (positive;negative;zero;text),
 * conditions ([>=100]), colours (ignored), quoted literals and \x escapes, _x padding (a space)
 * and *x fill (nothing), digit placeholders 0 # ? with thousands separators and scaling by trailing
 * commas, percent, scientific, fractions, @ text, currency ([$€-407]), and dates and times
 * (month/day names, AM/PM, elapsed [h]:mm:ss, fractional seconds) in the 1900 or 1904 date system.
 */

export interface NumberFormatOptions {
  /** The workbook counts days from 1904-01-01 (workbookPr date1904) instead of 1900-01-00. */
  date1904?: boolean;
}

/** ECMA-376 Part 1, 18.8.30: the built-in formats, with Excel's en-US rendering of 5-8, 14 and 22. */
const BUILTIN_FORMATS: Record<number, string> = {
  0: 'General',
  1: '0',
  2: '0.00',
  3: '#,##0',
  4: '#,##0.00',
  5: '"$"#,##0_);\\("$"#,##0\\)',
  6: '"$"#,##0_);[Red]\\("$"#,##0\\)',
  7: '"$"#,##0.00_);\\("$"#,##0.00\\)',
  8: '"$"#,##0.00_);[Red]\\("$"#,##0.00\\)',
  9: '0%',
  10: '0.00%',
  11: '0.00E+00',
  12: '# ?/?',
  13: '# ??/??',
  14: 'm/d/yyyy',
  15: 'd-mmm-yy',
  16: 'd-mmm',
  17: 'mmm-yy',
  18: 'h:mm AM/PM',
  19: 'h:mm:ss AM/PM',
  20: 'h:mm',
  21: 'h:mm:ss',
  22: 'm/d/yyyy h:mm',
  37: '#,##0 ;(#,##0)',
  38: '#,##0 ;[Red](#,##0)',
  39: '#,##0.00;(#,##0.00)',
  40: '#,##0.00;[Red](#,##0.00)',
  41: '_(* #,##0_);_(* \\(#,##0\\);_(* "-"_);_(@_)',
  42: '_("$"* #,##0_);_("$"* \\(#,##0\\);_("$"* "-"_);_(@_)',
  43: '_(* #,##0.00_);_(* \\(#,##0.00\\);_(* "-"??_);_(@_)',
  44: '_("$"* #,##0.00_);_("$"* \\(#,##0.00\\);_("$"* "-"??_);_(@_)',
  45: 'mm:ss',
  46: '[h]:mm:ss',
  47: 'mmss.0',
  48: '##0.0E+0',
  49: '@',
};

/** The code of a built-in format id; ids Excel leaves to the locale (23-36, 50+) read as General. */
export function builtinFormatCode(id: number): string {
  return BUILTIN_FORMATS[id] ?? 'General';
}

type Token =
  | { kind: 'literal'; text: string }
  | { kind: 'digit'; char: '0' | '#' | '?' }
  | { kind: 'point' }
  | { kind: 'comma' }
  | { kind: 'percent' }
  | { kind: 'exponent'; sign: '+' | '-' }
  | { kind: 'slash' }
  | { kind: 'text' }
  | { kind: 'general' }
  | { kind: 'date'; part: string };

interface Condition {
  op: string;
  limit: number;
}

interface Section {
  tokens: Token[];
  condition?: Condition;
  isDate: boolean;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const DATE_PART = /^(?:\[(?:h+|m+|s+)\]|am\/pm|a\/p|y+|e+|m+|d+|h+|s+)/i;
const CONDITION = /^\[(<=|>=|<>|<|>|=)(-?\d+(?:\.\d+)?)\]$/;

const SYMBOLS: Record<string, Token> = { '.': { kind: 'point' }, ',': { kind: 'comma' }, '%': { kind: 'percent' }, '/': { kind: 'slash' }, '@': { kind: 'text' } };

const MAX_CODE_LENGTH = 255;
/** Serial of 9999-12-31, the last day Excel displays. */
const LAST_DATE_SERIAL = 2958465;

const parsedCodes = new Map<string, Section[]>();

/** Splits a code into sections and tokens once; workbooks reuse a handful of codes for many cells. */
function parseCode(code: string): Section[] {
  let sections = parsedCodes.get(code);
  if (!sections) {
    // Excel caps codes at 255 characters; a longer one comes from a hostile file and reads as General.
    sections = splitSections(code.length > MAX_CODE_LENGTH ? 'General' : code).map(parseSection);
    if (parsedCodes.size > 1000) parsedCodes.clear();
    parsedCodes.set(code, sections);
  }
  return sections;
}

function splitSections(code: string): string[] {
  const sections: string[] = [];
  let start = 0;
  for (let i = 0; i < code.length; i++) {
    const ch = code[i]!;
    if (ch === '"') i = closing(code, i, '"');
    else if (ch === '[') i = closing(code, i, ']');
    else if (ch === '\\' || ch === '_' || ch === '*') i++;
    else if (ch === ';') (sections.push(code.slice(start, i)), (start = i + 1));
  }
  sections.push(code.slice(start));
  return sections;
}

function closing(code: string, open: number, char: string): number {
  const at = code.indexOf(char, open + 1);
  return at < 0 ? code.length : at;
}

function parseSection(source: string): Section {
  const tokens: Token[] = [];
  let condition: Section['condition'];
  const literal = (text: string) => tokens.push({ kind: 'literal', text });
  for (let i = 0; i < source.length; ) {
    const ch = source[i]!;
    const rest = source.slice(i);
    if (ch === '"') {
      const end = closing(source, i, '"');
      literal(source.slice(i + 1, end));
      i = end + 1;
    } else if (ch === '\\') {
      literal(source[i + 1] ?? '');
      i += 2;
    } else if (ch === '_') {
      literal(' ');
      i += 2;
    } else if (ch === '*') {
      i += 2;
    } else if (ch === '[') {
      const end = closing(source, i, ']');
      const inner = source.slice(i, end + 1);
      const date = DATE_PART.exec(inner);
      const cond = CONDITION.exec(inner);
      if (date && date[0] === inner) tokens.push({ kind: 'date', part: inner.toLowerCase() });
      else if (cond) condition = { op: cond[1]!, limit: Number(cond[2]) };
      else if (inner.startsWith('[$')) literal(inner.slice(2, -1).split('-')[0]!);
      i = end + 1;
    } else if (/^general/i.test(rest)) {
      tokens.push({ kind: 'general' });
      i += 7;
    } else if ((ch === 'E' || ch === 'e') && /^[Ee][+-][0#?]/.test(rest)) {
      tokens.push({ kind: 'exponent', sign: rest[1] as '+' | '-' });
      i += 2;
    } else if (ch === '0' || ch === '#' || ch === '?') {
      tokens.push({ kind: 'digit', char: ch });
      i++;
    } else if (SYMBOLS[ch]) {
      tokens.push(SYMBOLS[ch]);
      i++;
    } else {
      const date = DATE_PART.exec(rest);
      if (date) {
        // a/p keeps its case (Excel shows a or p); every other part is matched in lower case.
        tokens.push({ kind: 'date', part: /^a\/p$/i.test(date[0]) ? date[0] : date[0].toLowerCase() });
        i += date[0].length;
      } else {
        literal(ch);
        i++;
      }
    }
  }
  const isDate = tokens.some((t) => t.kind === 'date');
  return { tokens: isDate ? dateTokens(tokens) : tokens, isDate, ...(condition ? { condition } : {}) };
}

function holds({ op, limit }: Condition, value: number): boolean {
  switch (op) {
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '=':
      return value === limit;
    default:
      return value !== limit;
  }
}

/** A conditional section shows the minus sign unless its condition admits negative numbers only. */
function showsMinus({ op, limit }: Condition): boolean {
  return !((limit < 0 && (op === '<' || op === '<=' || op === '=')) || (limit === 0 && op === '<'));
}

/** How number tokens read in a date section, where they are plain text. */
const NUMBER_TOKEN_TEXT: Partial<Record<Token['kind'], string>> = { point: '.', comma: ',', percent: '%', slash: '/' };

/**
 * In a date section: m/mm right after an hour or right before a second is minutes (recorded as
 * n/nn), `.0` after seconds is a fraction of a second, and every other number token is literal text.
 */
function dateTokens(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind === 'point' && out.some((t) => t.kind === 'date' && /^\[?s/.test(t.part)) && tokens[i + 1]?.kind === 'digit') {
      let digits = 0;
      while (tokens[i + 1 + digits]?.kind === 'digit') digits++;
      out.push({ kind: 'date', part: `.${'0'.repeat(digits)}` });
      i += digits;
    } else if (token.kind === 'date' || token.kind === 'literal') out.push(token);
    else out.push({ kind: 'literal', text: NUMBER_TOKEN_TEXT[token.kind] ?? (token.kind === 'digit' ? token.char : '') });
  }
  const dateParts = out.filter((t): t is Extract<Token, { kind: 'date' }> => t.kind === 'date');
  dateParts.forEach((token, i) => {
    if (!/^m{1,2}$/.test(token.part)) return;
    const before = dateParts[i - 1]?.part ?? '';
    const after = dateParts[i + 1]?.part ?? '';
    if (/^(h|\[h)/.test(before) || /^(s|\[s)/.test(after)) token.part = token.part === 'm' ? 'n' : 'nn';
  });
  return out;
}

/** The displayed text of a number under a format code, as Excel's TEXT(value, code) gives it. */
export function formatNumber(value: number, code: string, options: NumberFormatOptions = {}): string {
  if (!Number.isFinite(value)) return String(value);
  const sections = parseCode(code);
  const { section, signed } = chooseSection(sections, value);
  // A text-only format (@) shows numbers as General.
  if (!section || section.tokens.some((t) => t.kind === 'text')) return generalNumber(value);
  const shown = signed ? value : Math.abs(value);
  if (section.isDate) {
    // Excel shows ##### for dates outside its calendar; the raw number says more.
    if (value < 0 || value >= LAST_DATE_SERIAL + 1) return generalNumber(value);
    return formatDate(value, section.tokens, options);
  }
  const body = formatNumberTokens(Math.abs(shown), section.tokens);
  return shown < 0 && body.nonZero ? `-${body.text}` : body.text;
}

/** The displayed text of a string cell: the text section (the fourth, or a lone one with @) if any. */
export function formatText(text: string, code: string): string {
  const sections = parseCode(code);
  const section = sections[3] ?? (sections.length === 1 && sections[0]!.tokens.some((t) => t.kind === 'text') ? sections[0] : undefined);
  if (!section) return text;
  return section.tokens.map((t) => (t.kind === 'text' ? text : t.kind === 'literal' ? t.text : '')).join('');
}

/** Whether numbers under this code display as dates or times. */
export function isDateFormat(code: string): boolean {
  return parseCode(code)[0]?.isDate ?? false;
}

/**
 * Which section shows a number, and whether a negative one keeps its minus sign. Without
 * conditions: positive;negative;zero, the negative section showing the number without its sign
 * (the section carries it, as in (1,234)). With conditions: the first section whose condition
 * holds (the first defaults to [>0]); after one or two conditional sections the next one takes the
 * rest, and a lone conditional section leaves the rest to General.
 */
function chooseSection(all: Section[], value: number): { section?: Section; signed: boolean } {
  // A trailing text section never shows numbers.
  const sections = all.length > 1 && all[all.length - 1]!.tokens.some((t) => t.kind === 'text') ? all.slice(0, -1) : all;
  if (sections.some((s) => s.condition)) {
    const [first, second, third] = sections as [Section, Section | undefined, Section | undefined];
    const firstCondition = first.condition ?? { op: '>', limit: 0 };
    if (holds(firstCondition, value)) return { section: first, signed: showsMinus(firstCondition) };
    if (second?.condition) {
      if (holds(second.condition, value)) return { section: second, signed: showsMinus(second.condition) };
      return { section: third, signed: true };
    }
    // The second section takes what the first leaves; it shows the minus when it is the one negatives reach.
    const { op, limit } = firstCondition;
    return { section: second, signed: op === '=' || ((op === '>' || op === '>=') && limit >= 0) };
  }
  if (sections.length === 1 || value > 0 || (value === 0 && sections.length === 2)) return { section: sections[0], signed: true };
  if (value < 0) return { section: sections[1], signed: false };
  return { section: sections[2], signed: true };
}

/**
 * Excel's General: the number as it is when that fits in 11 characters; otherwise rounded to fit
 * (0.333333333, 1234.56789), or scientific with six significant digits (1.23457E+11) when it is
 * too large or too small for that.
 */
export function generalNumber(value: number): string {
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  const plain = plainDecimal(abs);
  if (plain.length <= GENERAL_WIDTH) return sign + plain;
  const exponent = Number(abs.toExponential().split('e')[1]);
  if (exponent >= GENERAL_WIDTH || exponent <= -5) {
    const [mantissa, e] = abs.toExponential(5).split('e');
    return `${sign}${mantissa!.replace(/\.?0+$/, '')}E${Number(e) < 0 ? '-' : '+'}${String(Math.abs(Number(e))).padStart(2, '0')}`;
  }
  // Below 1 the leading "0." takes two characters; above, the point takes one.
  const rounded = exponent < 0 ? abs.toPrecision(GENERAL_WIDTH - 1 + exponent) : fixedText(abs, Math.max(0, GENERAL_WIDTH - 2 - exponent));
  return sign + (rounded.includes('.') ? rounded.replace(/\.?0+$/, '') : rounded);
}

const GENERAL_WIDTH = 11;

/** A non-negative number in positional notation with up to 15 significant digits. */
function plainDecimal(abs: number): string {
  // Integers below 10^15 are exact at 15 digits: the common case in a large sheet, without the string work below.
  if (Number.isInteger(abs) && abs < 1e15) return String(abs);
  const [mantissa, e] = Number(abs.toPrecision(15)).toExponential().split('e');
  const digits = mantissa!.replace('.', '');
  const exponent = Number(e);
  if (exponent < 0) return `0.${'0'.repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) return digits + '0'.repeat(exponent + 1 - digits.length);
  return `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}

function fixedText(value: number, decimals: number): string {
  const { int, frac } = fixed(value, decimals);
  return frac ? `${int}.${frac}` : int;
}

/** |value| with `decimals` digits after the point, rounded half away from zero on its decimal digits. */
function fixed(value: number, decimals: number): { int: string; frac: string } {
  const clean = Number(value.toPrecision(15));
  let text: string;
  const [mantissa, exponent] = clean.toExponential().split('e');
  const shifted = Math.round(Number(`${mantissa}e${Number(exponent) + decimals}`));
  if (Number.isSafeInteger(shifted)) {
    const digits = String(shifted).padStart(decimals + 1, '0');
    text = decimals ? `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}` : digits;
  } else {
    text = clean.toFixed(Math.min(decimals, 100));
  }
  const [int, frac = ''] = text.split('.');
  return { int: int!, frac };
}

function formatNumberTokens(value: number, tokens: Token[]): { text: string; nonZero: boolean } {
  if (tokens.some((t) => t.kind === 'general')) {
    return { text: tokens.map((t) => (t.kind === 'general' ? generalNumber(value) : t.kind === 'literal' ? t.text : '')).join(''), nonZero: value !== 0 };
  }
  const digitIndexes = tokens.flatMap((t, i) => (t.kind === 'digit' ? [i] : []));
  if (!digitIndexes.length) return { text: tokens.map((t) => (t.kind === 'literal' ? t.text : t.kind === 'percent' ? '%' : '')).join(''), nonZero: value !== 0 };

  let scaled = value * 100 ** tokens.filter((t) => t.kind === 'percent').length;
  // Commas right after the last integer placeholder (before the point or the end) divide by 1000 each.
  const pointAt = tokens.findIndex((t) => t.kind === 'point');
  const lastInteger = [...digitIndexes].reverse().find((i) => pointAt < 0 || i < pointAt) ?? -1;
  for (const last of new Set([lastInteger, digitIndexes[digitIndexes.length - 1]!])) for (let i = last + 1; tokens[i]?.kind === 'comma'; i++) scaled /= 1000;

  const slashAt = tokens.findIndex((t) => t.kind === 'slash');
  if (slashAt > 0 && tokens[slashAt - 1]?.kind === 'digit') return formatFraction(scaled, tokens, slashAt);
  const exponentAt = tokens.findIndex((t) => t.kind === 'exponent');
  if (exponentAt >= 0) return formatScientific(scaled, tokens, exponentAt);
  return formatPlain(scaled, tokens, pointAt, lastInteger);
}

/** What a digit placeholder shows where the number has no digit for it. */
const EMPTY_PLACEHOLDER = { '0': '0', '?': ' ', '#': '' } as const;

/** Fills integer placeholders right to left (the leftmost takes any extra digits) and decimals left to right. */
function formatPlain(value: number, tokens: Token[], pointAt: number, lastInteger: number): { text: string; nonZero: boolean } {
  const intEnd = pointAt < 0 ? tokens.length : pointAt;
  const decimals = tokens.slice(intEnd).filter((t) => t.kind === 'digit') as Extract<Token, { kind: 'digit' }>[];
  const rounded = fixed(value, decimals.length);
  const nonZero = /[1-9]/.test(rounded.int + rounded.frac);
  const intPlaceholders = tokens.slice(0, intEnd).filter((t): t is Extract<Token, { kind: 'digit' }> => t.kind === 'digit');
  const grouped = tokens.slice(0, intEnd).some((t, i) => t.kind === 'comma' && i < lastInteger && tokens.slice(0, i).some((x) => x.kind === 'digit'));
  // A zero integer part has no significant digits: placeholders show their empty form (0, space, nothing).
  const digits = rounded.int === '0' ? '' : rounded.int;

  const out: string[] = [];
  if (grouped) {
    // With thousands separators the integer is one run of digits at the first placeholder, zero
    // padded to the placeholders from the first 0 on.
    const firstDigit = tokens.findIndex((t) => t.kind === 'digit');
    const firstZero = intPlaceholders.findIndex((t) => t.char === '0');
    const padded = digits.padStart(firstZero < 0 ? 0 : intPlaceholders.length - firstZero, '0');
    const spaces = intPlaceholders.filter((t) => t.char === '?').length - padded.length;
    for (let i = 0; i < intEnd; i++) {
      const t = tokens[i]!;
      if (i === firstDigit) out.push(' '.repeat(Math.max(0, spaces)) + padded.replace(/\B(?=(\d{3})+$)/g, ','));
      else if (t.kind === 'literal') out.push(t.text);
      else if (t.kind === 'percent') out.push('%');
    }
  } else {
    let rest = digits;
    let placeholdersLeft = intPlaceholders.length;
    const placed: string[] = [];
    for (let i = intEnd - 1; i >= 0; i--) {
      const t = tokens[i]!;
      if (t.kind === 'digit') {
        placeholdersLeft--;
        const take = placeholdersLeft === 0 ? rest.length : Math.min(1, rest.length);
        placed.push(take ? rest.slice(rest.length - take) : EMPTY_PLACEHOLDER[t.char]);
        rest = rest.slice(0, rest.length - take);
      } else if (t.kind === 'literal') placed.push(t.text);
      else if (t.kind === 'percent') placed.push('%');
    }
    out.push(...placed.reverse());
  }

  if (pointAt >= 0) {
    // Trailing zeros under # are dropped, under ? they become spaces.
    const frac = rounded.frac.split('');
    for (let k = frac.length - 1; k >= 0 && frac[k] === '0' && decimals[k]!.char !== '0'; k--) frac[k] = decimals[k]!.char === '?' ? ' ' : '';
    let k = 0;
    for (let i = pointAt; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.kind === 'point') out.push('.');
      else if (t.kind === 'digit') out.push(frac[k++] ?? '');
      else if (t.kind === 'literal') out.push(t.text);
      else if (t.kind === 'percent') out.push('%');
    }
  }
  return { text: out.join(''), nonZero };
}

function formatScientific(value: number, tokens: Token[], exponentAt: number): { text: string; nonZero: boolean } {
  const mantissaTokens = tokens.slice(0, exponentAt);
  const pointAt = mantissaTokens.findIndex((t) => t.kind === 'point');
  const intIndexes = mantissaTokens.flatMap((t, i) => (t.kind === 'digit' && (pointAt < 0 || i < pointAt) ? [i] : []));
  const intPlaces = intIndexes.map((i) => mantissaTokens[i] as Extract<Token, { kind: 'digit' }>);
  const decimals = pointAt < 0 ? 0 : mantissaTokens.slice(pointAt).filter((t) => t.kind === 'digit').length;
  // With several integer places (##0.0E+0, engineering) the exponent is a multiple of their count.
  const step = Math.max(1, intPlaces.length);
  const magnitude = value === 0 ? 0 : Math.floor(Math.log10(value));
  let exponent = step > 1 ? Math.floor(magnitude / step) * step : magnitude;
  // Rounding the mantissa may carry it past its integer places (9.999 -> 10.00).
  if (value !== 0 && fixed(value / 10 ** exponent, decimals).int.length > step) exponent += step;
  const mantissa = formatPlain(value / 10 ** exponent, mantissaTokens, pointAt, intIndexes[intIndexes.length - 1] ?? -1).text;
  const exponentTokens = tokens.slice(exponentAt + 1);
  const sign = exponent < 0 ? '-' : (tokens[exponentAt] as Extract<Token, { kind: 'exponent' }>).sign;
  const digits = String(Math.abs(exponent)).padStart(exponentTokens.filter((t) => t.kind === 'digit').length, '0');
  const tail = exponentTokens.map((t) => (t.kind === 'literal' ? t.text : '')).join('');
  return { text: `${mantissa}E${sign === '+' ? '+' : exponent < 0 ? '-' : ''}${digits}${tail}`, nonZero: value !== 0 };
}

/**
 * `# ?/?`, `# ??/??`, `?/8`: a whole part when the code has one, then the closest fraction whose
 * denominator fits the placeholders (or is the fixed one), numerator and denominator padded with
 * spaces; a whole number shows spaces where the fraction would be.
 */
function formatFraction(value: number, tokens: Token[], slashAt: number): { text: string; nonZero: boolean } {
  let numeratorStart = slashAt;
  while (tokens[numeratorStart - 1]?.kind === 'digit') numeratorStart--;
  const numeratorWidth = slashAt - numeratorStart;
  let denominatorEnd = slashAt + 1;
  while (tokens[denominatorEnd]?.kind === 'digit' || (tokens[denominatorEnd]?.kind === 'literal' && /^\d+$/.test((tokens[denominatorEnd] as { text: string }).text))) denominatorEnd++;
  const denominatorTokens = tokens.slice(slashAt + 1, denominatorEnd);
  const denominatorWidth = denominatorTokens.length;
  const fixedDenominator = denominatorTokens.some((t) => t.kind === 'literal') ? Number(denominatorTokens.map((t) => (t.kind === 'literal' ? t.text : t.kind === 'digit' ? t.char : '')).join('')) : 0;
  const head = tokens.slice(0, numeratorStart);
  const headDigits = head.flatMap((t, i) => (t.kind === 'digit' ? [i] : []));
  const hasWhole = headDigits.length > 0;
  let whole = hasWhole ? Math.floor(value) : 0;
  const rest = value - whole;
  let [numerator, denominator] = fixedDenominator > 0 ? [Math.round(rest * fixedDenominator), fixedDenominator] : convergentFraction(rest, 10 ** Math.max(1, denominatorWidth) - 1);
  if (hasWhole && numerator === denominator) (whole++, (numerator = 0));
  const tail = tokens.slice(denominatorEnd).map((t) => (t.kind === 'literal' ? t.text : '')).join('');
  const wholeText = hasWhole ? formatPlain(whole, head, -1, headDigits[headDigits.length - 1]!).text : head.map((t) => (t.kind === 'literal' ? t.text : '')).join('');
  if (hasWhole && numerator === 0) {
    const shown = /\d/.test(wholeText) ? wholeText : wholeText.replace(/^/, '0');
    return { text: `${shown}${' '.repeat(numeratorWidth + 1 + denominatorWidth)}${tail}`, nonZero: value !== 0 };
  }
  const fraction = `${String(numerator).padStart(numeratorWidth, ' ')}/${fixedDenominator > 0 ? denominator : String(denominator).padEnd(denominatorWidth, ' ')}`;
  return { text: `${wholeText}${fraction}${tail}`, nonZero: value !== 0 };
}

/**
 * The last continued-fraction convergent whose denominator fits. Excel stops there rather than
 * searching for the closest fraction: `# ??/??` shows 0.23 as 3/13, not 20/87.
 */
export function convergentFraction(value: number, maxDenominator: number): [number, number] {
  let [h0, h1, k0, k1] = [0, 1, 1, 0];
  let x = value;
  for (let i = 0; i < 64; i++) {
    const a = Math.floor(x);
    if (a * k1 + k0 > maxDenominator) break;
    [h0, h1, k0, k1] = [h1, a * h1 + h0, k1, a * k1 + k0];
    if (Math.abs(x - a) < 1e-12) break;
    x = 1 / (x - a);
  }
  return k1 === 0 ? [0, 1] : [h1, k1];
}

/** Calendar fields of a serial date: 1900 system with Excel's fictitious 1900-02-29 (serial 60). */
function dateParts(serial: number, date1904: boolean, subsecondDigits: number) {
  const unit = 10 ** subsecondDigits;
  const totalUnits = Math.round(serial * 86400 * unit);
  const days = Math.floor(totalUnits / (86400 * unit));
  const dayUnits = totalUnits - days * 86400 * unit;
  const seconds = Math.floor(dayUnits / unit);
  const time = { hours: Math.floor(seconds / 3600), minutes: Math.floor(seconds / 60) % 60, seconds: seconds % 60, subsecond: dayUnits % unit, totalUnits };
  // Excel counts 1900-01-01 as a Sunday, one day off before its fictitious leap day.
  const weekday = (days + (date1904 ? 5 : 6)) % 7;
  if (!date1904 && days === 60) return { year: 1900, month: 2, day: 29, weekday, ...time };
  if (!date1904 && days === 0) return { year: 1900, month: 1, day: 0, weekday, ...time };
  const epoch = date1904 ? Date.UTC(1904, 0, 1) : Date.UTC(1899, 11, days < 60 ? 31 : 30);
  const d = new Date(epoch + days * 86400000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday, ...time };
}

function formatDate(serial: number, tokens: Token[], options: NumberFormatOptions): string {
  const subsecond = tokens.find((t): t is Extract<Token, { kind: 'date' }> => t.kind === 'date' && t.part.startsWith('.'));
  const subsecondDigits = subsecond ? subsecond.part.length - 1 : 0;
  const parts = dateParts(serial, options.date1904 ?? false, subsecondDigits);
  const twelveHour = tokens.some((t) => t.kind === 'date' && /^(am\/pm|a\/p)$/i.test(t.part));
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  const elapsedSeconds = Math.floor(parts.totalUnits / 10 ** subsecondDigits);
  return tokens
    .map((t) => {
      if (t.kind === 'literal') return t.text;
      if (t.kind !== 'date') return '';
      const p = t.part;
      switch (p[0]) {
        case 'y':
        case 'e':
          return p.length <= 2 && p[0] === 'y' ? pad(parts.year % 100, 2) : String(parts.year);
        case 'm':
          if (p === 'm') return String(parts.month);
          if (p === 'mm') return pad(parts.month, 2);
          if (p === 'mmm') return MONTHS[parts.month - 1]!.slice(0, 3);
          if (p === 'mmmmm') return MONTHS[parts.month - 1]![0]!;
          return MONTHS[parts.month - 1]!;
        case 'n':
          return p === 'n' ? String(parts.minutes) : pad(parts.minutes, 2);
        case 'd':
          if (p === 'd') return String(parts.day);
          if (p === 'dd') return pad(parts.day, 2);
          if (p === 'ddd') return DAYS[parts.weekday]!.slice(0, 3);
          return DAYS[parts.weekday]!;
        case 'h': {
          const hour = twelveHour ? parts.hours % 12 || 12 : parts.hours;
          return p.length > 1 ? pad(hour, 2) : String(hour);
        }
        case 's':
          return p.length > 1 ? pad(parts.seconds, 2) : String(parts.seconds);
        case '.':
          return `.${pad(parts.subsecond, subsecondDigits)}`;
        case '[': {
          const width = p.length - 2;
          const elapsed = p[1] === 'h' ? Math.floor(elapsedSeconds / 3600) : p[1] === 'm' ? Math.floor(elapsedSeconds / 60) : elapsedSeconds;
          return pad(elapsed, width);
        }
        case 'a':
        case 'A': {
          const pm = parts.hours >= 12;
          if (p === 'am/pm') return pm ? 'PM' : 'AM';
          return p[0] === 'a' ? (pm ? 'p' : 'a') : pm ? 'P' : 'A';
        }
        default:
          return '';
      }
    })
    .join('');
}
