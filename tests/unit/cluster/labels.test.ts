import { clusterLabels, terms } from '../../../core/cluster';

describe('cluster labels', () => {
  it('uses character bigrams for Chinese and words for English', () => {
    expect([...terms('请总结合同条款 and Summarize THE contract')].sort()).toEqual(['contract', 'summarize', '同条', '合同', '总结', '条款', '结合', '请总'].sort());
  });

  it('labels each cluster by the terms that set it apart, not by shared boilerplate', () => {
    const texts = [
      'Task: summarize the invoice totals',
      'Task: summarize the invoice dates',
      'Task: summarize the invoice items',
      'Task: classify 合同风险 等级',
      'Task: classify 合同风险 类型',
      'Task: classify 合同风险 来源',
    ];
    const labels = clusterLabels(texts, [0, 0, 0, 1, 1, 1], 2, 2);
    expect(labels[0]).toBe('invoice / summarize');
    expect(labels[1]!.split(' / ')).toEqual(expect.arrayContaining(['合同']));
    expect(labels.join(' ')).not.toMatch(/task/);
  });
});
