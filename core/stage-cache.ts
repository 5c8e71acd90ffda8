/**
 * Results of finished lifecycle stages, keyed by the hash of their inputs, so re-running the
 * lifecycle with the same inputs reuses the dataset, adapters and index instead of redoing them.
 * The result itself lives in the artifact store; the key file only points at it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson, sha256Hex, type ArtifactRef, type ArtifactStore } from './artifacts';
import { writeFileAtomically } from './atomic-file';

export class StageCache {
  constructor(
    private readonly store: ArtifactStore,
    private readonly dir: string,
  ) {}

  static keyOf(stageInput: unknown): string {
    return sha256Hex(canonicalJson(stageInput));
  }

  /** The cached result, or null when absent or when any artifact it references is gone. */
  async get(stageInput: unknown): Promise<unknown | null> {
    let pointer: ArtifactRef;
    try {
      pointer = JSON.parse(await fs.readFile(this.pointerPath(stageInput), 'utf8')) as ArtifactRef;
    } catch {
      return null;
    }
    if (!(await this.store.has(pointer))) return null;
    const result = await this.store.getJson<unknown>(pointer);
    for (const ref of referencedArtifacts(result)) if (!(await this.store.has(ref))) return null;
    return result;
  }

  async put(stageInput: unknown, result: unknown): Promise<ArtifactRef> {
    const ref = await this.store.putJson(result);
    const target = this.pointerPath(stageInput);
    await writeFileAtomically(target, JSON.stringify(ref));
    return ref;
  }

  private pointerPath(stageInput: unknown): string {
    return path.join(this.dir, `${StageCache.keyOf(stageInput)}.json`);
  }
}

/** Every ArtifactRef-shaped object nested in a value. */
export function referencedArtifacts(value: unknown): ArtifactRef[] {
  if (Array.isArray(value)) return value.flatMap(referencedArtifacts);
  if (!value || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  if (typeof record.sha256 === 'string' && typeof record.bytes === 'number' && typeof record.media_type === 'string') return [record as unknown as ArtifactRef];
  return Object.values(record).flatMap(referencedArtifacts);
}
