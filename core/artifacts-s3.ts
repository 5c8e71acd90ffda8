import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline as pipelineStreams, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ArtifactCorrupt, ArtifactNotFound, blobKey, changedWhileStored, ContentAddressedStore, Sha256Check, verifiedBytes, type ArtifactRef } from './artifacts-base';
import { BoundedBlobCache } from './artifacts-cache';
import { writeAtomically } from './artifacts-local';
import type { ArtifactStoreLocation } from './config';

/** Parts uploaded at once by one multipart upload (memory: this many parts of partSizeBytes). */
const UPLOAD_QUEUE_SIZE = 4;

export interface S3ArtifactStoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix without slashes at either end; '' for the bucket root. */
  prefix: string;
  cache: BoundedBlobCache;
  /** Objects larger than this go up in parts of this size (S3's minimum part is 5 MiB). */
  partSizeBytes: number;
}

/**
 * The store in an S3 bucket (AWS, MinIO, any S3 API), with the same keys as the folder layout:
 * `<prefix>/sha256/<aa>/<hex>`, so Node and Python read each other's artifacts.
 * Uploads stream through a sha256 check that fails them before the object is committed, and send a
 * SHA-256 checksum the server verifies per request (per part for multipart). A failed upload leaves
 * nothing visible: a single PUT or a multipart upload only appears once complete.
 * Reads are verified against the address and go through a bounded local cache.
 */
export class S3ArtifactStore extends ContentAddressedStore {
  constructor(readonly options: S3ArtifactStoreOptions) {
    super();
  }

  static at(location: Extract<ArtifactStoreLocation, { kind: 's3' }>): S3ArtifactStore {
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
    const cache = new BoundedBlobCache(location.cacheDir, location.cacheMaxBytes);
    return new S3ArtifactStore({ client, bucket: location.bucket, prefix: location.prefix, cache, partSizeBytes: location.partSizeBytes });
  }

  get url(): string {
    return `s3://${this.options.bucket}/${this.options.prefix}`;
  }

  objectKey(sha256: string): string {
    return this.options.prefix ? `${this.options.prefix}/${blobKey(sha256)}` : blobKey(sha256);
  }

  protected async hasBlob(sha256: string): Promise<boolean> {
    try {
      await this.options.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(sha256) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  protected writeBlob(ref: ArtifactRef, bytes: Uint8Array): Promise<void> {
    return this.upload(ref.sha256, Readable.from([bytes]), (actual) => new Error(`bytes of ${ref.sha256} changed in memory (now ${actual})`));
  }

  protected writeBlobFromFile(ref: ArtifactRef, filePath: string): Promise<void> {
    return this.upload(ref.sha256, createReadStream(filePath), changedWhileStored(filePath));
  }

  protected async readBlob(sha256: string): Promise<Buffer> {
    const { cache } = this.options;
    const cached = await cache.read(sha256);
    if (cached) return cached;
    const object = await this.getObject(sha256);
    const bytes = verifiedBytes(Buffer.concat(await object.body.toArray()), sha256, this.url);
    if (cache.fits(bytes.byteLength)) await cache.fill(sha256, bytes.byteLength, Readable.from([bytes]), this.corrupt(sha256));
    return bytes;
  }

  protected async copyBlobToFile(sha256: string, target: string): Promise<void> {
    const { cache } = this.options;
    if (await cache.copyTo(sha256, target)) return;
    let object = await this.getObject(sha256);
    if (cache.fits(object.bytes)) {
      await cache.fill(sha256, object.bytes, object.body, this.corrupt(sha256));
      if (await cache.copyTo(sha256, target)) return;
      object = await this.getObject(sha256); // evicted by another process between the fill and the copy
    }
    await writeAtomically(target, (tmp) => pipeline(object.body, new Sha256Check(sha256, this.corrupt(sha256)), createWriteStream(tmp)), { durable: false });
  }

  private corrupt(sha256: string): (actual: string) => ArtifactCorrupt {
    return (actual) => new ArtifactCorrupt(sha256, actual, this.url);
  }

  private async getObject(sha256: string): Promise<{ body: Readable; bytes: number }> {
    try {
      const response = await this.options.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(sha256) }));
      return { body: response.Body as Readable, bytes: response.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) throw new ArtifactNotFound(`artifact ${sha256} is not in ${this.url}`);
      throw err;
    }
  }

  /**
   * lib-storage sends one PUT, or a multipart upload whose completion makes the object appear at
   * once. The check fails the body stream at its end when the bytes do not hash to the key, before
   * the last part is sent; lib-storage then aborts the multipart upload. A server that goes away
   * mid-upload fails the call (retryable; the SDK retries each request first, AWS_MAX_ATTEMPTS)
   * and leaves only invisible parts, which a bucket lifecycle rule removes (docs/deploy.md).
   */
  private async upload(sha256: string, source: Readable, mismatch: (actual: string) => Error): Promise<void> {
    let bodyError: unknown;
    const body = pipelineStreams(source, new Sha256Check(sha256, mismatch), (err) => (bodyError = err)); // errors also reach the upload through the body
    const upload = new Upload({
      client: this.options.client,
      params: { Bucket: this.options.bucket, Key: this.objectKey(sha256), Body: body, ChecksumAlgorithm: 'SHA256' },
      partSize: this.options.partSizeBytes,
      queueSize: UPLOAD_QUEUE_SIZE,
      leavePartsOnError: false,
    });
    // When the abort that follows a body error fails too (a server without AbortMultipartUpload), the
    // body's error is the one that says what happened.
    await upload.done().catch((err: unknown) => Promise.reject(bodyError ?? err));
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}
