import path from 'node:path';
import { artifactStoreFromEnv } from '../core/artifacts';
import { loadConfig } from '../core/config';
import { StageCache } from '../core/stage-cache';

function stageCache(): StageCache {
  return new StageCache(artifactStoreFromEnv(), path.join(loadConfig().dataDir, 'stage-cache'));
}

export interface StageKey {
  stage: string;
  workflow_type: string;
  input: unknown;
}

/** The stored result of a stage run earlier with exactly these inputs, or null. */
export async function lookupStageResult(key: StageKey): Promise<unknown | null> {
  return stageCache().get(key);
}

export async function recordStageResult(entry: StageKey & { result: unknown }): Promise<void> {
  const { result, ...key } = entry;
  await stageCache().put(key, result);
}
