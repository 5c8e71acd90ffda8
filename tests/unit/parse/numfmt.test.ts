import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from '../../../core/parse';
import { builtinFormatCode, formatNumber, formatText, isDateFormat } from '../../../core/parse/numfmt';
import { corpusDir } from '../../../scripts/score-corpus';
import { zip } from './fixtures';

/**
 * [value, format code, what Excel (en-US) displays]. Serial 45306 is Monday 2024-01-15; padding
 * (_x) is a space, so some expectations keep leading/trailing spaces on purpose. Written for the
 * hand-written formatter this module replaced and cross-checked then against the numfmt package
 * that now does the formatting; they differed only in the locale of [$€-407] (numfmt switches to
 * German separators, Excel keeps the system's), which core/parse/numfmt.ts renders en-US.
 */
const CASES: [number, string, string][] = [
  // General and plain digits
  [1234.5, 'General', '1234.5'],
  [0.1 + 0.2, 'General', '0.3'],
  [-5, 'General', '-5'],
  [1e20, 'General', '1E+20'],
  // General fits 11 characters: rounded, or scientific with six significant digits.
  [1 / 3, 'General', '0.333333333'],
  [-1 / 3, 'General', '-0.333333333'],
  [1234.56789012, 'General', '1234.56789'],
  [12345678901.5, 'General', '12345678902'],
  [123456789012, 'General', '1.23457E+11'],
  [0.0000123456, 'General', '1.23456E-05'],
  [0, '0#', '0'],
  [1234.5, '0', '1235'],
  [-2.5, '0', '-3'],
  [1.005, '0.00', '1.01'],
  [1234567.891, '#,##0', '1,234,568'],
  [-1234, '#,##0', '-1,234'],
  [0, '#,##0', '0'],
  [1234.5, '#,##0.00', '1,234.50'],
  [123, '00000', '00123'],
  [123456789, '000-00-0000', '123-45-6789'],
  [0.5, '#.##', '.5'],
  [1, '#.##', '1.'],
  [1.2, '0.0#', '1.2'],
  [1.234, '0.0#', '1.23'],
  [1.5, '??.??', ' 1.5 '],
  [5, '\\1\\.0#', '1.05'],
  // Scaling by trailing commas, percent
  [1234567, '#,##0,', '1,235'],
  [1234567, '0.0,,"M"', '1.2M'],
  [0.256, '0%', '26%'],
  [0.256, '0.00%', '25.60%'],
  [-0.05, '0.00%', '-5.00%'],
  // Sections, conditions, colours, literals
  [-1.5, '[Red]0.00;[Blue]-0.00', '-1.50'],
  [-3, '0;(0);"zero"', '(3)'],
  [0, '0;(0);"zero"', 'zero'],
  [-5, '#,##0.00_);[Red](#,##0.00)', '(5.00)'],
  [5, '#,##0.00_);[Red](#,##0.00)', '5.00 '],
  [1500, '[>=1000]#,##0,"K";0', '2K'],
  [999, '[>=1000]#,##0,"K";0', '999'],
  [-5, 'General;-General', '-5'],
  // A conditional section keeps the minus unless it only admits negatives; a lone one leaves the rest to General.
  [-5, '[>=1000]#,##0,"K";0', '-5'],
  [-5, '[<0]"neg "0;0', 'neg 5'],
  [-500, '[>100]"big";[<-100]"small "0;0', 'small 500'],
  [-5, '[>100]"big";[<-100]"small";0', '-5'],
  [5, '[>=10]0', '5'],
  // Currency
  [1234.5, '"$"#,##0.00', '$1,234.50'],
  [-1234.5, '"$"#,##0.00', '-$1,234.50'],
  [1234.5, '[$€-407] #,##0.00', '€ 1,234.50'],
  [1234.5, '#,##0.00 [$€-407]', '1,234.50 €'],
  // Accounting (_x pads, *x fills)
  [1234, '_(* #,##0_);_(* \\(#,##0\\);_(* "-"_);_(@_)', ' 1,234 '],
  [-1234, '_(* #,##0_);_(* \\(#,##0\\);_(* "-"_);_(@_)', ' (1,234)'],
  [0, '_(* #,##0_);_(* \\(#,##0\\);_(* "-"_);_(@_)', ' - '],
  // Scientific
  [12345, '0.00E+00', '1.23E+04'],
  [0.00012345, '0.00E+00', '1.23E-04'],
  [0, '0.00E+00', '0.00E+00'],
  [999900, '0.00E+00', '1.00E+06'],
  [12345, '##0.0E+0', '12.3E+3'],
  [1234567, '##0.0E+0', '1.2E+6'],
  [1234.5678, '00.00E+00', '12.35E+02'],
  // Fractions
  [1.5, '# ?/?', '1 1/2'],
  [0.75, '# ?/?', ' 3/4'],
  [2, '# ?/?', '2    '],
  // Excel stops at continued-fraction convergents (0.23 shows as 3/13, not the closer 20/87).
  [Math.PI, '# ??/??', '3  1/7 '],
  [0.23, '# ??/??', '  3/13'],
  [1.3, '# ?/8', '1 2/8'],
  [1.75, '?/?', '7/4'],
  // Dates and times
  [45306, 'm/d/yyyy', '1/15/2024'],
  [45306, 'd-mmm-yy', '15-Jan-24'],
  [45306, 'd-mmm', '15-Jan'],
  [45306, 'mmm-yy', 'Jan-24'],
  [45306, 'dddd, mmmm d, yyyy', 'Monday, January 15, 2024'],
  [45306, 'ddd mmmmm yy', 'Mon J 24'],
  [45306.75, 'yyyy-mm-dd hh:mm:ss', '2024-01-15 18:00:00'],
  [45306.5, 'm/d/yyyy h:mm', '1/15/2024 12:00'],
  [0.75, 'h:mm AM/PM', '6:00 PM'],
  [0, 'h:mm AM/PM', '12:00 AM'],
  [0.5 + 61 / 86400, 'h:mm:ss AM/PM', '12:01:01 PM'],
  [0.75, 'h:mm', '18:00'],
  [0.75, 'h:mm:ss', '18:00:00'],
  [15 / 1440, 'mm:ss', '15:00'],
  [1.5, '[h]:mm:ss', '36:00:00'],
  [2.25, '[h]:mm', '54:00'],
  [1 / 24, '[mm]:ss', '60:00'],
  [61 / 86400, 'mmss.0', '0101.0'],
  [1.25 / 86400, 'ss.00', '01.25'],
  [0.5104166667, 'h "h" mm "min"', '12 h 15 min'],
  [60, 'yyyy-mm-dd', '1900-02-29'],
  [61, 'yyyy-mm-dd', '1900-03-01'],
  [1, 'yyyy-mm-dd', '1900-01-01'],
  // Excel's calendar makes 1900-01-01 a Sunday (its fictitious 1900-02-29 shifts the early weekdays).
  [1, 'dddd', 'Sunday'],
];

describe('number formats: the text Excel displays', () => {
  it.each(CASES)('%p under %p shows %p', (value, code, shown) => {
    expect(formatNumber(value, code)).toBe(shown);
  });

  it('built-in ids 0-49 resolve to their codes (en-US for the locale-dependent ones)', () => {
    const shown = (id: number, value: number) => formatNumber(value, builtinFormatCode(id));
    expect(shown(0, 12.5)).toBe('12.5');
    expect(shown(2, 3)).toBe('3.00');
    expect(shown(4, 1234.567)).toBe('1,234.57');
    expect(shown(5, -1234)).toBe('($1,234)');
    expect(shown(8, 1234.5)).toBe('$1,234.50 ');
    expect(shown(9, 0.5)).toBe('50%');
    expect(shown(11, 1234)).toBe('1.23E+03');
    expect(shown(13, 0.25)).toBe('  1/4 ');
    expect(shown(14, 45306)).toBe('1/15/2024');
    expect(shown(22, 45306.25)).toBe('1/15/2024 6:00');
    expect(shown(37, -1234)).toBe('(1,234)');
    expect(shown(44, 1234.5)).toBe(' $1,234.50 ');
    expect(shown(46, 1.5)).toBe('36:00:00');
    expect(shown(49, 12)).toBe('12');
    // Ids Excel leaves to the locale read as General.
    expect(shown(30, 45306)).toBe('45306');
    expect([14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47].every((id) => isDateFormat(builtinFormatCode(id)))).toBe(true);
    expect([0, 1, 2, 3, 4, 9, 10, 11, 12, 37, 44, 48, 49].some((id) => isDateFormat(builtinFormatCode(id)))).toBe(false);
  });

  it('the 1904 date system counts from 1904-01-01', () => {
    expect(formatNumber(0, 'yyyy-mm-dd', { date1904: true })).toBe('1904-01-01');
    expect(formatNumber(43844, 'yyyy-mm-dd', { date1904: true })).toBe('2024-01-15');
    // Elapsed times and times of day do not move with the calendar; no serial before its first day is a date.
    expect(formatNumber(1.5, '[h]:mm:ss', { date1904: true })).toBe('36:00:00');
    expect(formatNumber(43844.75, 'h:mm', { date1904: true })).toBe('18:00');
    expect(formatNumber(-1, 'yyyy-mm-dd', { date1904: true })).toBe('-1');
  });

  it('text cells go through the text section, or stay as they are', () => {
    expect(formatText('abc', '0;(0);"zero";"text: "@')).toBe('text: abc');
    expect(formatText('abc', '@')).toBe('abc');
    expect(formatText('abc', '_(* #,##0_);_(* \\(#,##0\\);_(* "-"_);_(@_)')).toBe(' abc ');
    expect(formatText('abc', '0.00')).toBe('abc');
  });

  it('bad input stays bounded: huge codes read as General, dates outside Excel\'s calendar as numbers', () => {
    const started = Date.now();
    expect(formatNumber(1.5, '0'.repeat(5_000_000))).toBe('1.5');
    expect(formatNumber(12.5, `${'0'.repeat(200)}.${'0'.repeat(50)}`)).toMatch(/^0+12\.50+$/);
    expect(formatNumber(1e300, 'yyyy-mm-dd')).toBe('1E+300');
    expect(formatNumber(-1, 'yyyy-mm-dd')).toBe('-1');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('fractions are the last convergent within the denominator limit', () => {
    expect(formatNumber(0.333, '?/?')).toBe('1/3');
    expect(formatNumber(0.23, '??/??')).toBe(' 3/13');
    expect(formatNumber(Math.PI - 3, '???/???')).toBe(' 16/113');
    expect(formatNumber(0.999, '?/?')).toBe('1/1');
  });
});

describe('XLSX cells show their formatted text and keep value and type', () => {
  const NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"';
  const workbook = (date1904: boolean) =>
    zip({
      '[Content_Types].xml': '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
      'xl/workbook.xml': `<workbook ${NS} xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr date1904="${date1904 ? 1 : 0}"/><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>`,
      'xl/_rels/workbook.xml.rels':
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',
      'xl/styles.xml': `<styleSheet ${NS}><numFmts count="2"><numFmt numFmtId="164" formatCode="[$€-407] #,##0.00;[Red]-[$€-407] #,##0.00"/><numFmt numFmtId="165" formatCode="dddd, mmmm d, yyyy"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="14"/><xf numFmtId="10"/><xf numFmtId="44"/><xf numFmtId="0"/></cellXfs></styleSheet>`,
      'xl/worksheets/sheet1.xml': `<worksheet ${NS}><sheetData><row r="1"><c r="A1" s="1"><v>-1234.5</v></c><c r="B1" s="2"><v>45306</v></c><c r="C1" s="3"><v>45306</v></c><c r="D1" s="4"><v>0.1234</v></c><c r="E1" s="5" t="inlineStr"><is><t>n/a</t></is></c><c r="F1" s="5"><v>0</v></c></row></sheetData></worksheet>`,
    });
  const cells = async (date1904: boolean) => (await parseDocument(workbook(date1904))).blocks.flatMap((b) => b.cells ?? []).map((c) => [c.ref, c.value, c.value_type, c.text]);

  it('in the 1900 date system', async () => {
    expect(await cells(false)).toEqual([
      ['A1', -1234.5, 'number', '-€ 1,234.50'],
      ['B1', 45306, 'date', 'Monday, January 15, 2024'],
      ['C1', 45306, 'date', '1/15/2024'],
      ['D1', 0.1234, 'number', '12.34%'],
      // Accounting pads text and shows zero as a dash; padding is trimmed, the * fill is left out.
      ['E1', 'n/a', 'string', 'n/a'],
      ['F1', 0, 'number', '$-'],
    ]);
  });

  it('in the 1904 date system (workbookPr date1904)', async () => {
    expect((await cells(true)).find((c) => c[0] === 'C1')).toEqual(['C1', 45306, 'date', '1/16/2028']);
  });

  it('on the corpus: section numbers formatted \\1\\.0# show as Excel shows them, values kept', async () => {
    const file = path.join(corpusDir(), 'inputs', 'xlsx', 'docling-xlsx_07_gap_tolerance_.xlsx');
    const model = await parseDocument(fs.readFileSync(file));
    const byRef = new Map(model.blocks.flatMap((b) => b.cells ?? []).map((c) => [c.ref, c]));
    expect(['A11', 'A15', 'A22', 'A27'].map((ref) => [byRef.get(ref)!.value, byRef.get(ref)!.text])).toEqual([
      [1, '1.01'],
      [5, '1.05'],
      [10, '1.10'],
      [14, '1.14'],
    ]);
  });
});
