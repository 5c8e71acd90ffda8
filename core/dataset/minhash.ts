/**
 * Near-duplicate detection with MinHash over character 3-grams of normalized text (no word
 * segmentation, so Chinese works as well as English) and LSH banding so each new text is compared
 * only with the few indexed texts that share a band. One index spans the whole dataset and every round.
 */
import { normalizeForComparison } from './text';

export interface MinHashOptions {
  /** Estimated Jaccard similarity at or above which a text is a near-duplicate. */
  threshold: number;
  /** Signature length: a power of two, a multiple of `bands`. */
  numHashes?: number;
  bands?: number;
  shingleSize?: number;
  seed?: number;
  /**
   * Members of one bucket a new text is compared with, newest first (default 256). Templated texts
   * (same boilerplate, different fields) stay below the threshold yet share bands, so without a cap
   * each bucket grows with the corpus and dedup turns quadratic. A true near-duplicate shares
   * several bands with its original (about 6 of 16 at Jaccard 0.8), so it is still found unless
   * every one of those buckets has had this many novel texts added since the original.
   */
  maxBucketScan?: number;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const EMPTY = 0x7fffffff;
const VALUE_BITS = 24;

export class NearDuplicateIndex {
  private readonly numHashes: number;
  private readonly binShift: number;
  private readonly bands: number;
  private readonly rows: number;
  private readonly shingleSize: number;
  private readonly seed: number;
  private readonly maxBucketScan: number;
  private readonly buckets: Map<number, number[]>[];
  private readonly signatures: Int32Array[] = [];
  private readonly ids: string[] = [];
  /** Signature comparisons made so far: at most bands × maxBucketScan per text. */
  comparisons = 0;

  constructor(private readonly options: MinHashOptions) {
    this.numHashes = options.numHashes ?? 64;
    this.bands = options.bands ?? 16;
    if (this.numHashes & (this.numHashes - 1) || this.numHashes % this.bands !== 0) throw new Error('numHashes must be a power of two and a multiple of bands');
    this.binShift = 32 - Math.log2(this.numHashes);
    this.rows = this.numHashes / this.bands;
    this.shingleSize = options.shingleSize ?? 3;
    this.maxBucketScan = options.maxBucketScan ?? 256;
    this.seed = fmix32((options.seed ?? 1) + 0x9e3779b9);
    this.buckets = Array.from({ length: this.bands }, () => new Map<number, number[]>());
  }

  get size(): number {
    return this.ids.length;
  }

  /**
   * One-permutation MinHash: each shingle hash picks a bin by its top bits and competes for that bin's
   * minimum with its low bits, so a signature costs one hash per shingle instead of one per shingle and
   * bin. Empty bins borrow the next filled bin's value, offset by the distance (rotation densification),
   * which keeps the fraction of equal bins an unbiased estimate of Jaccard similarity.
   */
  signature(text: string): Int32Array {
    const s = normalizeForComparison(text);
    const n = this.numHashes;
    const sig = new Int32Array(n).fill(EMPTY);
    const k = Math.min(this.shingleSize, Math.max(1, s.length));
    for (let i = 0; i + k <= s.length; i++) {
      let h = 0x811c9dc5 ^ this.seed;
      for (let j = 0; j < k; j++) h = Math.imul(h ^ s.charCodeAt(i + j), 0x01000193);
      h = fmix32(h);
      const bin = h >>> this.binShift;
      const value = h & ((1 << VALUE_BITS) - 1);
      if (value < sig[bin]!) sig[bin] = value;
    }
    for (let b = 0; b < n; b++) {
      if (sig[b] !== EMPTY) continue;
      for (let distance = 1; distance < n; distance++) {
        const donor = sig[(b + distance) % n]!;
        if (donor !== EMPTY && donor < 1 << VALUE_BITS) {
          sig[b] = donor + distance * (1 << VALUE_BITS);
          break;
        }
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
      const bucket = this.buckets[b]!.get(keys[b]!) ?? [];
      for (let i = bucket.length - 1; i >= Math.max(0, bucket.length - this.maxBucketScan); i--) {
        const candidate = bucket[i]!;
        if (seen.has(candidate)) continue;
        seen.add(candidate);
        this.comparisons++;
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

  private bandKeys(sig: Int32Array): Uint32Array {
    const keys = new Uint32Array(this.bands);
    for (let b = 0; b < this.bands; b++) {
      let h = 0x811c9dc5;
      for (let r = 0; r < this.rows; r++) h = fmix32(h ^ sig[b * this.rows + r]!);
      keys[b] = h;
    }
    return keys;
  }
}

export function estimatedJaccard(a: Int32Array, b: Int32Array): number {
  let equal = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) equal++;
  return equal / a.length;
}
