/**
 * Near-duplicate detection with MinHash over character 3-grams of normalized text (no word
 * segmentation, so Chinese works as well as English) and LSH banding so each new text is compared
 * only with the few indexed texts that share a band. One index spans the whole dataset and every round.
 */
import { normalizeForComparison } from './text';

export interface MinHashOptions {
  /** Estimated Jaccard similarity at or above which a text is a near-duplicate. */
  threshold: number;
  numPermutations?: number;
  bands?: number;
  shingleSize?: number;
  seed?: number;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class NearDuplicateIndex {
  private readonly numPermutations: number;
  private readonly bands: number;
  private readonly rows: number;
  private readonly shingleSize: number;
  private readonly multipliers: Uint32Array;
  private readonly offsets: Uint32Array;
  private readonly buckets: Map<number, number[]>[];
  private readonly signatures: Uint32Array[] = [];
  private readonly ids: string[] = [];

  constructor(private readonly options: MinHashOptions) {
    this.numPermutations = options.numPermutations ?? 64;
    this.bands = options.bands ?? 16;
    if (this.numPermutations % this.bands !== 0) throw new Error('numPermutations must be a multiple of bands');
    this.rows = this.numPermutations / this.bands;
    this.shingleSize = options.shingleSize ?? 3;
    let state = (options.seed ?? 1) >>> 0;
    const next = () => (state = fmix32(state + 0x9e3779b9));
    this.multipliers = Uint32Array.from({ length: this.numPermutations }, () => next() | 1);
    this.offsets = Uint32Array.from({ length: this.numPermutations }, () => next());
    this.buckets = Array.from({ length: this.bands }, () => new Map<number, number[]>());
  }

  get size(): number {
    return this.ids.length;
  }

  signature(text: string): Uint32Array {
    const s = normalizeForComparison(text);
    const sig = new Uint32Array(this.numPermutations).fill(0xffffffff);
    const k = Math.min(this.shingleSize, Math.max(1, s.length));
    for (let i = 0; i + k <= s.length; i++) {
      let h = 0x811c9dc5;
      for (let j = 0; j < k; j++) h = Math.imul(h ^ s.charCodeAt(i + j), 0x01000193);
      h = fmix32(h);
      for (let p = 0; p < this.numPermutations; p++) {
        let v = Math.imul(h ^ this.offsets[p]!, this.multipliers[p]!);
        v = (v ^ (v >>> 15)) >>> 0;
        if (v < sig[p]!) sig[p] = v;
      }
    }
    return sig;
  }

  /** The id of an indexed near-duplicate of `text`, or undefined after indexing `text` under `id`. */
  addIfNovel(id: string, text: string): string | undefined {
    const sig = this.signature(text);
    const keys = this.bandKeys(sig);
    const seen = new Set<number>();
    for (let b = 0; b < this.bands; b++) {
      for (const candidate of this.buckets[b]!.get(keys[b]!) ?? []) {
        if (seen.has(candidate)) continue;
        seen.add(candidate);
        if (estimatedJaccard(sig, this.signatures[candidate]!) >= this.options.threshold) return this.ids[candidate];
      }
    }
    const index = this.ids.length;
    this.ids.push(id);
    this.signatures.push(sig);
    for (let b = 0; b < this.bands; b++) {
      const bucket = this.buckets[b]!.get(keys[b]!);
      if (bucket) bucket.push(index);
      else this.buckets[b]!.set(keys[b]!, [index]);
    }
    return undefined;
  }

  private bandKeys(sig: Uint32Array): Uint32Array {
    const keys = new Uint32Array(this.bands);
    for (let b = 0; b < this.bands; b++) {
      let h = 0x811c9dc5;
      for (let r = 0; r < this.rows; r++) h = fmix32(h ^ sig[b * this.rows + r]!);
      keys[b] = h;
    }
    return keys;
  }
}

export function estimatedJaccard(a: Uint32Array, b: Uint32Array): number {
  let equal = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) equal++;
  return equal / a.length;
}
