/** A seeded mixture of well-separated Gaussian blobs on the unit sphere, with its true labels. */
export function gaussianMixture(options: { clusters: number; perCluster: number; dim: number; spread: number; seed: number }): { vectors: Float32Array[]; labels: number[] } {
  let state = options.seed >>> 0 || 1;
  const uniform = () => {
    // xorshift32: tiny, seedable, good enough for test data.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 4294967296;
  };
  const gaussian = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const unit = (v: Float32Array) => {
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  };
  const centres = Array.from({ length: options.clusters }, () => unit(Float32Array.from({ length: options.dim }, gaussian)));
  const vectors: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < options.clusters * options.perCluster; i++) {
    const label = i % options.clusters;
    vectors.push(unit(centres[label]!.map((x) => x + options.spread * gaussian())));
    labels.push(label);
  }
  return { vectors, labels };
}
