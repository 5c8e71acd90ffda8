import { S3Client } from '@aws-sdk/client-s3';
import { BoundedBlobCache } from './artifacts-cache';
import { LocalArtifactStore } from './artifacts-local';
import { S3ArtifactStore } from './artifacts-s3';
import type { ArtifactStore } from './artifacts-base';
import { artifactStoreLocation, type ArtifactStoreLocation } from './config';

export * from './artifacts-base';
export { LocalArtifactStore } from './artifacts-local';
export { S3ArtifactStore } from './artifacts-s3';

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
  const client = new S3Client({
    region: location.region,
    endpoint: location.endpoint,
    // MinIO and other S3 APIs on a plain host:port have no per-bucket DNS names.
    forcePathStyle: location.endpoint !== undefined,
    // Checksums are sent where the store asks for them (SHA-256 on every upload), not the SDK's
    // default CRC32 trailers, which older S3-compatible servers cannot parse.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return new S3ArtifactStore({
    client,
    bucket: location.bucket,
    prefix: location.prefix,
    cache: new BoundedBlobCache(location.cacheDir, location.cacheMaxBytes),
    partSizeBytes: location.partSizeBytes,
  });
}
