import { NearDuplicateIndex } from '../../../core/dataset/minhash';

const passage =
  '由于今年第三季度降雨明显偏多，部分地区的农田出现了严重积水，导致夏粮减产约百分之八。各地农业部门已经组织技术人员深入田间，指导农户及时排水和补种。';

describe('MinHash + LSH near-duplicate index', () => {
  it('finds a Chinese near-duplicate with a few characters changed', () => {
    const index = new NearDuplicateIndex({ threshold: 0.7 });
    expect(index.addIfNovel('original', passage)).toBeUndefined();
    expect(index.addIfNovel('edited', passage.replace('约百分之八', '约百分之九').replace('及时', '尽快'))).toBe('original');
    expect(index.size).toBe(1);
  });

  it('ignores whitespace and punctuation differences', () => {
    const index = new NearDuplicateIndex({ threshold: 0.7 });
    index.addIfNovel('a', 'The coolant pump in hall B failed twice in March, and the bearings overheated.');
    expect(index.addIfNovel('b', 'The coolant pump in hall B  failed twice in March; and the bearings overheated!')).toBe('a');
  });

  it('keeps different texts in both languages, even on the same topic', () => {
    const index = new NearDuplicateIndex({ threshold: 0.7 });
    const texts = [
      passage,
      '专家指出，排水设施老化是积水加重的主要原因。地方政府应当尽快安排专项资金，用于修复和新建排水沟渠。',
      '农业农村部门建议各地加强田间管理，因为秋播在即，必须保证种子和化肥的供应。',
      'The coolant pump in hall B failed twice in March.',
      'The lubrication interval should be reduced to two months for all pumps in hall B.',
    ];
    texts.forEach((t, i) => expect(index.addIfNovel(String(i), t)).toBeUndefined());
    expect(index.size).toBe(texts.length);
  });

  it('gives the same signature for the same text and seed, a different one for another seed', () => {
    const a = new NearDuplicateIndex({ threshold: 0.7, seed: 1 });
    const b = new NearDuplicateIndex({ threshold: 0.7, seed: 1 });
    const c = new NearDuplicateIndex({ threshold: 0.7, seed: 2 });
    expect(a.signature(passage)).toEqual(b.signature(passage));
    expect(a.signature(passage)).not.toEqual(c.signature(passage));
  });

  it('compares each new text with a bounded number of others, even when templated texts crowd the buckets', () => {
    const random = (seed: number) => () => ((seed = Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
    const rand = random(11);
    const field = () => Array.from({ length: 40 }, () => 'abcdefghijklmnopqrstuvwxyz'[Math.floor(rand() * 26)]).join('');
    const boilerplate = 'This invoice is payable within thirty days of receipt. Late payments accrue interest at the statutory rate. ';
    const index = new NearDuplicateIndex({ threshold: 0.8, maxBucketScan: 8 });
    let mostPerText = 0;
    const texts: string[] = [];
    for (let i = 0; i < 600; i++) {
      const before = index.comparisons;
      const text = `${boilerplate}Customer ${field()} owes ${field()}.`;
      expect(index.addIfNovel(`t${i}`, text)).toBeUndefined(); // templated, but below the threshold
      texts.push(text);
      mostPerText = Math.max(mostPerText, index.comparisons - before);
    }
    // The templates share bands, so the buckets are crowded: the cap is what bounds the work.
    expect(mostPerText).toBeGreaterThan(8);
    expect(mostPerText).toBeLessThanOrEqual(16 * 8);
    // A near-copy of a recent text is still caught.
    expect(index.addIfNovel('copy', texts[595]!.replace('owes', 'owes:'))).toBe('t595');
  });
});
