import { assignSplits } from '../../../core/dataset/split';

const ratios = { train: 0.8, validation: 0.1, test: 0.1 };

function corpus(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    sha256: `doc-${i}`,
    byType: { summary: 1 + (i % 4), reasoning: i % 3, ranking: 1 + (i % 2), ...(i % 5 === 0 ? { rewrite: 2 } : {}) },
  }));
}

describe('document-level splits', () => {
  it('puts every document in exactly one split and is deterministic by seed', () => {
    const docs = corpus(40);
    const first = assignSplits(docs, ratios, 7);
    expect([...first.keys()].sort()).toEqual(docs.map((d) => d.sha256).sort());
    expect(assignSplits(docs, ratios, 7)).toEqual(first);
    expect(assignSplits(docs, ratios, 8)).not.toEqual(first);
  });

  it('keeps each task type near the requested ratios', () => {
    const docs = corpus(60);
    const split = assignSplits(docs, ratios, 3);
    for (const type of ['summary', 'ranking'] as const) {
      const total = docs.reduce((s, d) => s + (d.byType[type] ?? 0), 0);
      const inTrain = docs.filter((d) => split.get(d.sha256) === 'train').reduce((s, d) => s + (d.byType[type] ?? 0), 0);
      const inTest = docs.filter((d) => split.get(d.sha256) === 'test').reduce((s, d) => s + (d.byType[type] ?? 0), 0);
      expect(inTrain / total).toBeGreaterThan(0.7);
      expect(inTrain / total).toBeLessThan(0.9);
      expect(inTest).toBeGreaterThan(0);
    }
  });

  it('never uses a split whose ratio is zero', () => {
    const split = assignSplits(corpus(10), { train: 0.5, validation: 0, test: 0.5 }, 1);
    expect([...split.values()]).not.toContain('validation');
  });
});
