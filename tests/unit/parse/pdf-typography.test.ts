import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from '../../../core/parse';
import { isBoldFontName } from '../../../core/parse/pdf/layout';
import { corpusDir } from '../../../scripts/score-corpus';
import { pdf, text } from './pdf-fixtures';

const body = [
  'Rules in this part apply to every request made under the agreement',
  'and to every reply, whether it is sent by post or by electronic means',
  'and whether or not the sender has signed it with a qualified signature.',
];

describe('PDF font weight and direction', () => {
  it('tells heavy weights from font names', () => {
    for (const name of ['PGPGPK+KoPubDotumBold', 'TimesNewRomanPS-BoldMT', 'YGCXDP+NimbusRomNo9L-Medi', 'Inter-SemiBold', 'Arial-Black', 'Helvetica-BoldOblique']) expect([name, isBoldFontName(name)]).toEqual([name, true]);
    for (const name of ['TimesNewRomanPSMT', 'PGPHFJ+KoPubBatangLight', 'ZJXLJS+NimbusRomNo9L-Regu', 'Helvetica', 'Mediaeval-Regular', undefined]) expect([name, isBoldFontName(name)]).toEqual([name, false]);
  });

  it('a bold numbered line at body size is a heading of its own, even set tight against the text below it', async () => {
    const page = [
      text(72, 720, 'Terms of service', 18, 'Helvetica-Bold'),
      ...body.map((line, i) => text(72, 690 - 12 * i, line)),
      text(72, 640, '(1) Scope of the rules', 10, 'Helvetica-Bold'),
      ...body.map((line, i) => text(72, 628 - 12 * i, line)),
      text(72, 580, '(2) Replies in another typeface', 10, 'Times-Roman'),
      ...body.map((line, i) => text(72, 568 - 12 * i, line)),
    ];
    const model = await parseDocument(pdf([page]));
    expect(model.blocks.map((b) => [b.type, b.level ?? null, b.text.slice(0, 30)])).toEqual([
      ['heading', 1, 'Terms of service'],
      ['paragraph', null, body[0]!.slice(0, 30)],
      ['heading', 2, '(1) Scope of the rules'],
      ['paragraph', null, body[0]!.slice(0, 30)],
      // A different but regular typeface starting with a list marker is a list item, not a heading.
      ['list_item', 1, 'Replies in another typeface'],
      ['paragraph', null, body[0]!.slice(0, 30)],
    ]);
  });

  it('bold body text sets nothing apart: short bold lines stay paragraphs', async () => {
    const page = [...body.map((line, i) => text(72, 700 - 12 * i, line, 10, 'Helvetica-Bold')), text(72, 650, 'Signed in Geneva', 10, 'Helvetica-Bold'), ...body.map((line, i) => text(72, 630 - 12 * i, line, 10, 'Helvetica-Bold'))];
    const model = await parseDocument(pdf([page]));
    expect(model.blocks.filter((b) => b.type === 'heading')).toEqual([]);
  });

  it('Korean report: numbered subsection headings differ from the body by weight only (docling-normal_4pages)', async () => {
    const model = await parseDocument(fs.readFileSync(path.join(corpusDir(), 'inputs/pdf/docling-normal_4pages.pdf')));
    const headings = model.blocks.filter((b) => b.type === 'heading');
    const section = headings.find((h) => h.text === '2 코로나-19 관련 보험 현황')!;
    const subsection = headings.find((h) => h.text === '(1) 「감염병의 예방 및 관리에 관한 법률」 개정')!;
    expect(subsection.level).toBeGreaterThan(section.level!);
    expect(subsection.parent).toBe(section.id);
    expect(headings.filter((h) => /^\(\d\) /.test(h.text))).toHaveLength(11);
    expect(model.blocks.find((b) => b.type === 'caption')?.text).toMatch(/^\[표 1\] 감염병예방법/);
  });

  it('Arabic: a right-to-left line is read from its right end, with embedded Latin words in place (docling-right_to_left_01)', async () => {
    const model = await parseDocument(fs.readFileSync(path.join(corpusDir(), 'inputs/pdf/docling-right_to_left_01.pdf')));
    expect(model.blocks[0]).toMatchObject({ type: 'heading', level: 1 });
    expect(model.blocks[0]!.text).toMatch(/^تحسين .* بلغة R و Python$/);
    expect(model.blocks[1]!.text).toMatch(/^تعتبر البرمجة بلغة R و Python من /);
  });
});
