/** Adjusted Rand index (Hubert & Arabie): 1 for identical partitions, about 0 for random ones. */
export function adjustedRandIndex(truth: readonly number[], predicted: readonly number[]): number {
  if (truth.length !== predicted.length) throw new RangeError('both partitions must label the same points');
  const n = truth.length;
  const pairs = (x: number) => (x * (x - 1)) / 2;
  const table = new Map<string, number>();
  const rows = new Map<number, number>();
  const cols = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${truth[i]},${predicted[i]}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    rows.set(truth[i]!, (rows.get(truth[i]!) ?? 0) + 1);
    cols.set(predicted[i]!, (cols.get(predicted[i]!) ?? 0) + 1);
  }
  const index = [...table.values()].reduce((s, x) => s + pairs(x), 0);
  const rowSum = [...rows.values()].reduce((s, x) => s + pairs(x), 0);
  const colSum = [...cols.values()].reduce((s, x) => s + pairs(x), 0);
  const expected = (rowSum * colSum) / pairs(n);
  const maximum = (rowSum + colSum) / 2;
  return maximum === expected ? 1 : (index - expected) / (maximum - expected);
}
