import { chunkDocument, documentOutline } from '../../../core/dataset/chunk';
import { loadStyleGuide } from '../../../core/dataset/config';
import { causalPairs, styleRewrite, tableAsProse, templateDrafts } from '../../../core/dataset/templates';
import { chinesePolicy, englishReport, slideDeck } from '../../fixtures/dataset/documents';

const ALL = ['summary', 'classification', 'reasoning', 'rewrite', 'ranking'] as const;

function draftsOf(doc: typeof englishReport) {
  const chunks = chunkDocument(doc, 512);
  const outline = documentOutline(doc);
  return chunks.flatMap((chunk, i) =>
    templateDrafts(chunk, { taskTypes: ALL, taxonomy: outline.taxonomy, styleGuide: loadStyleGuide('general'), seed: 1, distractor: chunks[(i + 1) % chunks.length]! }),
  );
}

describe('structural chunking', () => {
  it('makes a chunk per section and per table, with heading paths and block ids', () => {
    const chunks = chunkDocument(englishReport, 512);
    expect(chunks.map((c) => [c.kind, c.title])).toEqual([
      ['section', 'Findings'],
      ['section', 'Recommendations'],
      ['table', 'Recommendations'],
      ['section', 'Costs'],
      ['document', 'Pump Maintenance Report'],
    ]);
    expect(chunks[0]!.heading_path).toEqual(['Pump Maintenance Report', 'Findings']);
    expect(chunks[0]!.block_ids).toEqual(['b2', 'b3', 'b4']);
    expect(new Set(chunks.map((c) => c.language))).toEqual(new Set(['en']));
  });

  it('makes a chunk per slide and detects Chinese', () => {
    expect(chunkDocument(slideDeck, 512).map((c) => [c.kind, c.title, c.units])).toEqual([
      ['slide', 'Quarterly Review', ['slide 1']],
      ['slide', 'Risks', ['slide 2']],
      ['document', 'Quarterly Review', ['slide 1', 'slide 2']],
    ]);
    expect(chunkDocument(chinesePolicy, 512).every((c) => c.language === 'zh')).toBe(true);
  });

  it('adds a whole-document overview of the sections\' lead sentences, for document summaries', () => {
    const overview = chunkDocument(englishReport, 512).find((c) => c.kind === 'document')!;
    expect(overview.text.split('\n')).toEqual([
      'The coolant pump in hall B failed twice in March.',
      'The lubrication interval is currently six months.',
      'The two repairs cost 12,400 euros in parts and labour.',
    ]);
    const drafts = templateDrafts(overview, { taskTypes: ALL, taxonomy: [], seed: 1 });
    expect(drafts.map((d) => d.generator)).toEqual(['summary.document.en@2', 'ranking.truncated.en@2']);
  });

  it('cuts sections over the token budget at sentence boundaries', () => {
    const chunks = chunkDocument(englishReport, 40);
    expect(chunks.length).toBeGreaterThan(4);
    expect(chunks.filter((c) => c.title === 'Findings').length).toBeGreaterThan(1);
  });

  it('derives the label taxonomy from section headings, not the document title', () => {
    expect(documentOutline(englishReport).taxonomy).toEqual(['Findings', 'Recommendations', 'Costs']);
  });
});

describe('template engine', () => {
  it('produces all five task types from an English and a Chinese document, in their language', () => {
    const english = draftsOf(englishReport);
    const chinese = draftsOf(chinesePolicy);
    expect(new Set(english.map((d) => d.task_type))).toEqual(new Set(ALL));
    expect(new Set(chinese.map((d) => d.task_type))).toEqual(new Set(ALL));
    expect(chinese.every((d) => d.language === 'zh' && /[\u4e00-\u9fff]/.test(d.instruction))).toBe(true);
    for (const d of [...english, ...chinese]) {
      expect(d.completion).toBeTruthy();
      if (d.task_type === 'classification') expect(d.answer_labels!.every((l) => d.labels!.includes(l))).toBe(true);
      if (d.task_type === 'ranking') expect(d.chosen).not.toBe(d.rejected);
    }
  });

  it('splits cause and effect at causal connectives in both languages, keeping the source sentence', () => {
    const [en] = causalPairs('The bearings overheated because the lubrication interval was extended to six months.');
    expect(en).toMatchObject({ kind: 'cause', given: 'the lubrication interval was extended to six months', follows: 'The bearings overheated.' });
    const [zh] = causalPairs('由于今年第三季度降雨明显偏多，部分地区的农田出现了严重积水。');
    expect(zh).toMatchObject({ kind: 'cause', given: '今年第三季度降雨明显偏多', follows: '部分地区的农田出现了严重积水。' });
    const decision = causalPairs('Alarm handling is inconsistent across shifts. Operators must log every alarm within one hour.');
    expect(decision[0]).toMatchObject({ kind: 'decision', follows: 'Operators must log every alarm within one hour.' });
  });

  it('pairs only whole clauses the source links, and says why it refuses the rest', () => {
    // A noun phrase after "due to" is no premise; "since" before a year is about time.
    expect(causalPairs('The amount of the credit changed due to the COVID-19 crisis.')).toEqual([]);
    expect(causalPairs('Since 2005, exposing over 600 million records of data, breaches have grown.')).toEqual([]);
    // The source's own sentence pair: a sentence, then one that concludes from it.
    expect(causalPairs('Demand for spare parts fell sharply in the spring. Therefore, the warehouse reduced its stock.')).toEqual([
      expect.objectContaining({ kind: 'cause', given: 'demand for spare parts fell sharply in the spring', follows: 'The warehouse reduced its stock.' }),
    ]);
    expect(causalPairs('The audit failed because the backup tapes.')).toEqual([{ kind: 'cause', refusal: expect.objectContaining({ reason: 'reasoning_fragment' }) }]);
    expect(causalPairs('It includes any adopted authority. Therefore, the register holds the value JOE.')).toEqual([
      { kind: 'cause', refusal: expect.objectContaining({ reason: 'reasoning_needs_context' }) },
    ]);
    // A modal that states a rule or a behaviour is not a recommendation.
    expect(causalPairs('The function takes three arguments. The first parameter must be one of three special registers.')).toEqual([]);
  });

  it('rewrites into the style guide\'s terms and writes tables as sentences', () => {
    expect(styleRewrite("Operators didn't log it. The pump ran fine.", loadStyleGuide('general'))).toEqual({ original: "Operators didn't log it.", rewritten: 'Operators did not log it.' });
    expect(styleRewrite('患者心脏病发作后需要打针。', loadStyleGuide('medical'))!.rewritten).toBe('患者心肌梗死后需要注射。');
    expect(tableAsProse({ columns: ['Pump', 'Failures'], rows: [['P-101', '2']], header: 'marked' }, 'en')).toBe('Pump is P-101, Failures is 2.');
    // An unnamed first column names the rows, years included: without it the values would float free.
    expect(tableAsProse({ columns: ['', 'Freshwater', 'Saltwater'], rows: [['2019', '120', '80']], header: 'marked' }, 'en')).toBe('2019: Freshwater is 120, Saltwater is 80.');
  });
});
