import { balanceLabelSets, capDocuments, documentRowCap } from '../../../core/dataset/balance';
import { tableView } from '../../../core/dataset/table-view';
import type { DatasetSample, DocumentBlock, DocumentTableCell } from '../../../schemas/generated/types';

function sample(id: string, doc: string, chunk: string, extra: Partial<DatasetSample> = {}): DatasetSample {
  return {
    id,
    task_type: 'summary',
    language: 'en',
    prompt: 'p',
    completion: 'c',
    provenance: { source_sha256: doc.padEnd(64, '0'), source_path: doc, units: [], block_ids: [], chunk_id: chunk, engine: 'template', generator: 'g', round: 0, judge_score: null },
    ...extra,
  };
}

describe('per-document caps', () => {
  it('water-fills: documents under the cap keep everything, none ends above the share', () => {
    expect(documentRowCap([100, 10, 10, 10, 10], 0.25)).toBe(13);
    expect(documentRowCap([5, 5, 5, 5], 0.25)).toBe(5);
    // Fewer documents than 1/share: an even split between them.
    expect(documentRowCap([30, 5], 0.25)).toBe(5);
    expect(documentRowCap([7], 0.25)).toBe(7);
  });

  it('samples an over-share document by whole chunks, deterministically, and says why for every row left out', () => {
    const big = Array.from({ length: 40 }, (_, i) => sample(`big-${i}`, 'big', `big-c${Math.floor(i / 4)}`));
    const small = ['a', 'b', 'c', 'd'].flatMap((d) => Array.from({ length: 5 }, (_, i) => sample(`${d}-${i}`, d, `${d}-c${i}`)));
    const items = [...big, ...small];
    const first = capDocuments(items, (s) => s, 0.25, 1, 'train');
    const kept = first.kept.filter((s) => s.provenance.source_path === 'big');
    expect(kept.length / first.kept.length).toBeLessThanOrEqual(0.25);
    expect(kept.length).toBeGreaterThan(0);
    // Whole chunks: a chunk is either kept whole or left out whole.
    const chunksKept = new Set(kept.map((s) => s.provenance.chunk_id));
    expect(kept.length).toBe(chunksKept.size * 4);
    expect(first.leftOut.every((l) => l.reason === 'document_cap' && l.detail.includes('train split'))).toBe(true);
    expect(first.kept.length + first.leftOut.length).toBe(items.length);
    expect(capDocuments(items, (s) => s, 0.25, 1, 'train').kept.map((s) => s.id)).toEqual(first.kept.map((s) => s.id));
  });
});

describe('classification label sets', () => {
  const classified = (id: string, answer: string, labels = ['A', 'B', 'C']) => sample(id, 'doc', id, { task_type: 'classification', labels, answer_labels: [answer] });

  it('caps the dominant answer below half of its set', () => {
    const items = [...Array.from({ length: 10 }, (_, i) => classified(`a${i}`, 'A')), classified('b1', 'B'), classified('b2', 'B'), classified('c1', 'C')];
    const { kept, leftOut } = balanceLabelSets(items, (s) => s, 1);
    const counts = new Map<string, number>();
    for (const s of kept) counts.set(s.answer_labels![0]!, (counts.get(s.answer_labels![0]!) ?? 0) + 1);
    for (const n of counts.values()) expect(n / kept.length).toBeLessThan(0.5);
    expect(counts.get('A')).toBe(2);
    expect(leftOut).toHaveLength(8);
    expect(leftOut.every((l) => l.reason === 'dominant_answer')).toBe(true);
  });

  it('drops a set with fewer than three distinct answers, and leaves other task types alone', () => {
    const items = [classified('a1', 'A', ['A', 'B']), classified('a2', 'A', ['A', 'B']), classified('b1', 'B', ['A', 'B']), sample('s1', 'doc', 'x')];
    const { kept, leftOut } = balanceLabelSets(items, (s) => s, 1);
    expect(kept.map((s) => s.id)).toEqual(['s1']);
    expect(leftOut).toHaveLength(3);
  });
});

describe('table views', () => {
  const cell = (row: number, col: number, text: string, extra: Partial<DocumentTableCell> = {}): DocumentTableCell => ({ row, col, row_span: 1, col_span: 1, text, ...extra });
  const table = (cells: DocumentTableCell[]): DocumentBlock => ({ id: 'b1', type: 'table', text: '', unit: 1, layer: 'body', cells });

  it('takes a marked header, composing a two-row header through a spanning cell', () => {
    const view = tableView(
      table([
        cell(0, 0, 'Region', { header: true, row_span: 2 }),
        cell(0, 1, 'Sales', { header: true, col_span: 2 }),
        cell(1, 1, '2023', { header: true }),
        cell(1, 2, '2024', { header: true }),
        cell(2, 0, 'North'),
        cell(2, 1, '10'),
        cell(2, 2, '12'),
      ]),
    );
    expect(view).toEqual({ columns: ['Region', 'Sales / 2023', 'Sales / 2024'], rows: [['North', '10', '12']], header: 'marked' });
  });

  it('reads a sheet\'s header as the text rows above its value rows, below a title row', () => {
    const typed = (row: number, col: number, text: string, value_type: DocumentTableCell['value_type']) => cell(row, col, text, { value_type });
    const view = tableView(
      table([
        typed(0, 0, 'Quarterly sales report', 'string'),
        typed(1, 0, 'Month', 'string'),
        typed(1, 1, 'Units', 'string'),
        typed(1, 2, 'Revenue', 'string'),
        typed(2, 0, 'Jan', 'string'),
        typed(2, 1, '4', 'number'),
        typed(2, 2, '1,200.00', 'number'),
      ]),
    );
    expect(view).toMatchObject({ columns: ['Month', 'Units', 'Revenue'], rows: [['Jan', '4', '1,200.00']], header: 'inferred' });
  });

  it('has no view where the first row is data: figures, or text with figures above more figures', () => {
    expect(tableView(table([cell(0, 0, '6'), cell(0, 1, '01-02'), cell(1, 0, '7'), cell(1, 1, '03-04')]))).toBeUndefined();
    expect(tableView(table([cell(0, 0, 'kV'), cell(0, 1, ':'), cell(0, 2, '130 (131 Um)'), cell(1, 0, 'Hz'), cell(1, 1, ':'), cell(1, 2, '134')]))).toBeUndefined();
    // A marked header whose names are mostly figures is not used either.
    expect(tableView(table([cell(0, 0, '2023', { header: true }), cell(0, 1, '2024', { header: true }), cell(1, 0, '5'), cell(1, 1, '6')]))).toBeUndefined();
  });
});
