import type { ArtifactStore } from './artifacts-base';
import { LocalArtifactStore } from './artifacts-local';
import { artifactStoreLocation, type ArtifactStoreLocation } from './config';

export * from './artifacts-base';
export { LocalArtifactStore } from './artifacts-local';

const storesByLocation = new Map<string, ArtifactStore>();

/**
 * The store LLMLOOP_ARTIFACTS names (core/config.ts); every reader and writer gets it here. One per
 * location and process, so an S3 store's connections and cache accounting are shared.
 */
export function artifactStoreFromEnv(env: NodeJS.ProcessEnv = process.env): ArtifactStore {
  const location = artifactStoreLocation(env);
  const key = JSON.stringify(location);
  let store = storesByLocation.get(key);
  if (!store) storesByLocation.set(key, (store = artifactStoreAt(location)));
  return store;
}

export function artifactStoreAt(location: ArtifactStoreLocation): ArtifactStore {
  if (location.kind === 'local') return new LocalArtifactStore(location.root);
  // Loaded here, not imported: the AWS SDK adds about 0.16 s to every process start (each CLI command
  // included), which only processes that use S3 should pay. trainers/artifacts.py does the same with boto3.
  const { S3ArtifactStore } = require('./artifacts-s3') as typeof import('./artifacts-s3');
  return S3ArtifactStore.at(location);
}
