import { Inflate } from 'fflate';
import { TypedError } from '../errors';
import { corrupt, limitExceeded, type ResolvedLimits } from './limits';

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  declaredSize: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const INFLATE_SLICE = 64 * 1024;
/** Below this many inflated bytes a high ratio is harmless (e.g. a small XML part full of spaces). */
const RATIO_GRACE_BYTES = 1024 * 1024;

/**
 * A read-only view of a zip held in memory that inflates one entry at a time on demand.
 * Limits are enforced while inflating (total bytes, per-entry ratio), never after, so a bomb stops
 * after at most one slice past the budget. Entry names are only map keys: nothing is written to disk,
 * and names that try to leave the package root are not addressable at all.
 */
export class SafeZip {
  private readonly entries = new Map<string, ZipEntry>();
  private inflatedTotal = 0;
  private entriesRead = 0;
  readonly suspiciousNames: string[] = [];
  /** Called after each entry is inflated, with the count so far: the progress a parser thread reports. */
  onEntryRead?: (entriesRead: number) => void;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly limits: ResolvedLimits,
  ) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const eocd = findEndOfCentralDirectory(view);
    const count = view.getUint16(eocd + 10, true);
    let offset = view.getUint32(eocd + 16, true);
    if (count > limits.max_zip_entries) throw limitExceeded('max_zip_entries', limits.max_zip_entries, `zip has ${count} entries`);
    const decoder = new TextDecoder();
    for (let i = 0; i < count; i++) {
      if (offset + 46 > view.byteLength || view.getUint32(offset, true) !== CENTRAL_SIGNATURE) throw corrupt('zip central directory is damaged');
      const nameLength = view.getUint16(offset + 28, true);
      const extraLength = view.getUint16(offset + 30, true);
      const commentLength = view.getUint16(offset + 32, true);
      const entry: ZipEntry = {
        name: decoder.decode(bytes.subarray(offset + 46, offset + 46 + nameLength)),
        method: view.getUint16(offset + 10, true),
        compressedSize: view.getUint32(offset + 20, true),
        declaredSize: view.getUint32(offset + 24, true),
        localHeaderOffset: view.getUint32(offset + 42, true),
      };
      if ((view.getUint16(offset + 8, true) & 1) === 1) throw new TypedError('EncryptedDocument', `zip entry ${entry.name} is encrypted`);
      if (isSafeEntryName(entry.name)) this.entries.set(entry.name, entry);
      else this.suspiciousNames.push(entry.name);
      offset += 46 + nameLength + extraLength + commentLength;
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry's size as its central directory declares it (what reading it would inflate to, unless the zip lies). */
  declaredSize(name: string): number | undefined {
    return this.entries.get(name)?.declaredSize;
  }

  get entryCount(): number {
    return this.entries.size;
  }

  /** Inflates one entry whole, up to max_part_bytes; null when the package has no such entry. */
  read(name: string): Uint8Array | null {
    const cap = this.limits.max_part_bytes;
    const tooLarge = () => limitExceeded('max_part_bytes', cap, `zip entry ${name} inflates past the size allowed for one part`);
    if ((this.entries.get(name)?.declaredSize ?? 0) > cap) throw tooLarge();
    const chunks: Uint8Array[] = [];
    let size = 0;
    const found = this.stream(name, (chunk) => {
      size += chunk.byteLength;
      if (size > cap) throw tooLarge();
      chunks.push(chunk);
    });
    return found ? concat(chunks) : null;
  }

  /**
   * Inflates one entry slice by slice into `onChunk`, so a consumer that scans as it goes (a huge
   * worksheet) never holds the whole part. False when the package has no such entry.
   */
  stream(name: string, onChunk: (chunk: Uint8Array) => void): boolean {
    const entry = this.entries.get(name);
    if (!entry) return false;
    const data = this.compressedData(entry);
    const remaining = this.limits.max_uncompressed_bytes - this.inflatedTotal;
    if (entry.declaredSize > remaining) throw this.budgetExceeded(entry.name);
    if (entry.method === 0) {
      this.inflatedTotal += data.byteLength;
      if (this.inflatedTotal > this.limits.max_uncompressed_bytes) throw this.budgetExceeded(entry.name);
      onChunk(data);
      this.onEntryRead?.(++this.entriesRead);
      return true;
    }
    if (entry.method !== 8) throw corrupt(`zip entry ${name} uses unsupported compression method ${entry.method}`);
    this.inflate(entry, data, onChunk);
    this.onEntryRead?.(++this.entriesRead);
    return true;
  }

  text(name: string): string | null {
    const data = this.read(name);
    return data === null ? null : new TextDecoder().decode(data);
  }

  private inflate(entry: ZipEntry, data: Uint8Array, onChunk: (chunk: Uint8Array) => void): void {
    let produced = 0;
    const inflater = new Inflate((chunk) => {
      produced += chunk.byteLength;
      this.inflatedTotal += chunk.byteLength;
      if (this.inflatedTotal > this.limits.max_uncompressed_bytes) throw this.budgetExceeded(entry.name);
      if (produced > RATIO_GRACE_BYTES && produced / Math.max(1, entry.compressedSize) > this.limits.max_compression_ratio) {
        throw limitExceeded('max_compression_ratio', this.limits.max_compression_ratio, `zip entry ${entry.name} expands more than ${this.limits.max_compression_ratio}x`);
      }
      onChunk(chunk);
    });
    try {
      for (let at = 0; at < data.byteLength; at += INFLATE_SLICE) {
        inflater.push(data.subarray(at, Math.min(data.byteLength, at + INFLATE_SLICE)), at + INFLATE_SLICE >= data.byteLength);
      }
    } catch (err) {
      if (err instanceof TypedError) throw err;
      throw corrupt(`zip entry ${entry.name} does not inflate: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private compressedData(entry: ZipEntry): Uint8Array {
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const local = entry.localHeaderOffset;
    if (local + 30 > view.byteLength || view.getUint32(local, true) !== LOCAL_SIGNATURE) throw corrupt(`zip entry ${entry.name} has no local header`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const end = start + entry.compressedSize;
    if (end > this.bytes.byteLength) throw corrupt(`zip entry ${entry.name} is truncated`);
    return this.bytes.subarray(start, end);
  }

  private budgetExceeded(name: string) {
    return limitExceeded('max_uncompressed_bytes', this.limits.max_uncompressed_bytes, `zip package inflates past its budget at ${name}`);
  }
}

function findEndOfCentralDirectory(view: DataView): number {
  const earliest = Math.max(0, view.byteLength - 22 - 0xffff);
  for (let at = view.byteLength - 22; at >= earliest; at--) {
    if (view.getUint32(at, true) === EOCD_SIGNATURE) return at;
  }
  throw corrupt('zip has no end of central directory (truncated or not a zip)');
}

/** Package part names are relative paths without `..`, backslashes or drive letters. */
export function isSafeEntryName(name: string): boolean {
  if (!name || name.startsWith('/') || name.includes('\\') || /^[a-zA-Z]:/.test(name) || name.includes('\0')) return false;
  return !name.split('/').some((segment) => segment === '..');
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
