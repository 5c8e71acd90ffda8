import { aiq, hullQualityAt, nonDecreasingConvexHull } from '../../../core/routing/aiq';

describe('AIQ (RouterBench)', () => {
  it('keeps only the non-decreasing upper convex hull', () => {
    const hull = nonDecreasingConvexHull([
      { cost: 0, quality: 0.2 },
      { cost: 1, quality: 0.3 }, // under the segment (0,0.2)-(2,0.6): not a vertex
      { cost: 2, quality: 0.6 },
      { cost: 3, quality: 0.5 }, // dearer and worse: dominated
      { cost: 4, quality: 0.7 },
    ]);
    expect(hull).toEqual([
      { cost: 0, quality: 0.2 },
      { cost: 2, quality: 0.6 },
      { cost: 4, quality: 0.7 },
    ]);
  });

  it('interpolates linearly between vertices and stays flat outside them', () => {
    const hull = [
      { cost: 1, quality: 0.2 },
      { cost: 3, quality: 0.6 },
    ];
    expect(hullQualityAt(hull, 0)).toBe(0.2);
    expect(hullQualityAt(hull, 2)).toBeCloseTo(0.4, 12);
    expect(hullQualityAt(hull, 9)).toBe(0.6);
  });

  it('is the area under the hull divided by the cost range', () => {
    // Two models (cost 0, q 0.5) and (cost 10, q 0.9): a straight line, mean quality 0.7.
    const zero = [
      { cost: 0, quality: 0.5 },
      { cost: 10, quality: 0.9 },
    ];
    expect(aiq(zero, 0, 10)).toBeCloseTo(0.7, 12);
    // A router reaching 0.9 at cost 2: area = 2*(0.5+0.9)/2 + 8*0.9 = 8.6 over 10.
    expect(aiq([...zero, { cost: 2, quality: 0.9 }], 0, 10)).toBeCloseTo(0.86, 12);
  });

  it('is the hull quality at that cost for a zero-width range', () => {
    expect(aiq([{ cost: 5, quality: 0.4 }], 5, 5)).toBe(0.4);
  });
});
