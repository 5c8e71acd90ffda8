import { TypedError } from '../../../core/errors';
import { parseCsv, parseScoreMatrix } from '../../../core/routing/score-matrix';

describe('route-eval score matrix', () => {
  it('parses RFC 4180 quoting: commas, doubled quotes and line breaks inside fields', () => {
    expect(parseCsv('a,b\r\n"x, ""y""\nz",2\n')).toEqual([
      ['a', 'b'],
      ['x, "y"\nz', '2'],
    ]);
  });

  const csv = ['id,prompt,split,score__big,score__small,cost__small', '1,"hi, there",train,1,0,0.5', '2,two,test,0.5,1,0.25', '3,three,test,1.5,0,0.1', '4,four,valid,1,0,0.1'].join('\n');

  it('reads scores, cost columns and --cost per-request costs', () => {
    const matrix = parseScoreMatrix(csv, { costs: { big: 3 } });
    expect(matrix.models).toEqual(['big', 'small']);
    expect(matrix.prompts[0]).toEqual({ id: '1', prompt: 'hi, there', group: null, split: 'train', scores: { big: 1, small: 0 }, costs: { big: 3, small: 0.5 } });
  });

  it('leaves out bad rows with their reasons instead of failing the whole matrix', () => {
    const matrix = parseScoreMatrix(csv, { costs: { big: 3 } });
    expect(matrix.prompts.map((p) => p.id)).toEqual(['1', '2']);
    expect(matrix.rejected).toEqual([
      { record: 4, reason: 'score__big is "1.5", expected a number in [0, 1]' },
      { record: 5, reason: 'split is "valid", expected train or test' },
    ]);
  });

  it('refuses a matrix without a cost for some model, naming the flag to pass', () => {
    expect(() => parseScoreMatrix(csv)).toThrow(TypedError);
    expect(() => parseScoreMatrix(csv)).toThrow(/--cost big=USD/);
  });

  it('splits 70/30 with a seed when there is no split column, the same way every time', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => `${i},p${i},1,0`);
    const text = ['id,prompt,score__a,score__b', ...rows].join('\n');
    const splits = (seed: number) => parseScoreMatrix(text, { costs: { a: 1, b: 2 }, seed }).prompts.map((p) => p.split);
    const train = splits(7).filter((s) => s === 'train').length;
    expect(train).toBeGreaterThan(650);
    expect(train).toBeLessThan(750);
    expect(splits(7)).toEqual(splits(7));
    expect(splits(8)).not.toEqual(splits(7));
  });
});
