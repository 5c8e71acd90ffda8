/**
 * Excel number formats: the text a cell shows for its value and format code (what Excel's TEXT()
 * returns). The formatting is the numfmt package's (an emulation of Excel's formatter: sections,
 * conditions, literals, padding and fill, digit placeholders, scaling, percent, scientific,
 * fractions, text, dates and elapsed times). This layer adds what the package leaves to its caller:
 * en-US rendering whatever locale a code names, General for the built-in ids Excel leaves to the
 * locale, the 1904 date system, and bounds for codes from hostile files.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as Numfmt from 'numfmt';

export interface NumberFormatOptions {
  /** The workbook counts days from 1904-01-01 (workbookPr date1904) instead of 1900-01-00. */
  date1904?: boolean;
}

/**
 * numfmt 4.0.1's package.json sends require() to dist/index.cjs, which its tarball does not ship
 * (its CommonJS build is dist/index.js). Until a release fixes that, the build is loaded by path
 * from the package's folder; a fixed release loads through its name.
 */
function loadNumfmt(): typeof Numfmt {
  try {
    return require('numfmt') as typeof Numfmt;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
  }
  for (const modules of require.resolve.paths('numfmt') ?? []) {
    const build = path.join(modules, 'numfmt', 'dist', 'index.js');
    if (fs.existsSync(build)) return require(build) as typeof Numfmt;
  }
  throw new Error('the numfmt package is not installed (npm ci)');
}

const numfmt = loadNumfmt();

/** Dates outside Excel's calendar (before 1900, after 9999) show the raw number rather than #####. */
const FORMAT_OPTIONS: Partial<Numfmt.FormatOptions> = { dateSpanLarge: false, dateErrorNumber: true };
/** Excel caps codes at 255 characters; a longer one comes from a hostile file and reads as General. */
const MAX_CODE_LENGTH = 255;
/** Days from 1900-01-00 to 1904-01-01 in Excel's 1900 calendar (its fictitious 1900-02-29 included). */
const DAYS_1900_TO_1904 = 1462;
/** Serial of 9999-12-31, the last day Excel shows, in the 1900 system. */
const LAST_DATE_SERIAL = 2958465;

/**
 * The code of a built-in format id (ECMA-376 Part 1, 18.8.30, with Excel's en-US rendering);
 * ids Excel leaves to the locale (23-36, 50+) read as General.
 */
export function builtinFormatCode(id: number): string {
  const fixed = Number.isInteger(id) && ((id >= 0 && id <= 22) || (id >= 37 && id <= 49));
  return fixed ? numfmt.getFormatFromId(id) : 'General';
}

/**
 * Locale tags switch numfmt to that locale's separators and names ([$€-407] gives 1.234,50); cells
 * render en-US here, so a tag keeps only its currency symbol and a tag without one goes. Quoted
 * text and escaped characters are left as they are.
 */
const LOCALE_TAG = /"[^"]*"|\\.|\[\$([^\]-]*)-[^\]]*\]/g;

interface UsableCode {
  code: string;
  /** It shows a year, month or day: what the 1904 date system moves. */
  calendarDate: boolean;
}

const usableCodes = new Map<string, UsableCode>();

/** A code numfmt renders as this parser shows cells (unreadable codes as General), worked out once per code. */
function usableCode(code: string): UsableCode {
  let usable = usableCodes.get(code);
  if (!usable) {
    let rendered = code.length > MAX_CODE_LENGTH ? 'General' : code.replace(LOCALE_TAG, (match, symbol?: string) => (symbol === undefined ? match : symbol ? `[$${symbol}]` : ''));
    if (!numfmt.isValidFormat(rendered)) rendered = 'General';
    const parts = numfmt.getFormatDateInfo(rendered);
    usable = { code: rendered, calendarDate: parts.year || parts.month || parts.day };
    // Workbooks reuse a handful of codes for many cells; a hostile one holding thousands stays bounded.
    if (usableCodes.size > 1000) usableCodes.clear();
    usableCodes.set(code, usable);
  }
  return usable;
}

/** The displayed text of a number under a format code, as Excel's TEXT(value, code) gives it. */
export function formatNumber(value: number, code: string, options: NumberFormatOptions = {}): string {
  const usable = usableCode(code);
  // numfmt counts serials in the 1900 system. Times of day and elapsed times ([h]:mm) are the same
  // in both; a negative serial is no date in either and shows as a number, as does one past 9999.
  if (options.date1904 && usable.calendarDate && value >= 0) {
    const serial = value + DAYS_1900_TO_1904;
    return numfmt.format(serial < LAST_DATE_SERIAL + 1 ? usable.code : 'General', serial < LAST_DATE_SERIAL + 1 ? serial : value, FORMAT_OPTIONS);
  }
  return numfmt.format(usable.code, value, FORMAT_OPTIONS);
}

/** The displayed text of a string cell: the text section (the fourth, or a lone one with @) if any. */
export function formatText(text: string, code: string): string {
  return numfmt.format(usableCode(code).code, text, FORMAT_OPTIONS);
}

/** Whether numbers under this code display as dates or times. */
export function isDateFormat(code: string): boolean {
  return numfmt.isDateFormat(usableCode(code).code);
}
