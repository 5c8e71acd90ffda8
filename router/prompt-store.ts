/**
 * Request prompts by content hash. The request log only carries the hash; with `store_prompts`
 * the messages themselves go to the artifact store under that same hash (canonical JSON), which
 * is where the feedback loop (activities/feedback.ts) reads them back.
 */
import { canonicalJson, sha256Hex, type ArtifactStore } from '../core/artifacts';

export class PromptStore {
  constructor(
    private readonly artifacts: ArtifactStore | null,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** The messages' hash; when storing, the write runs in the background and never delays a response. */
  reference(messages: unknown): { sha256: string } {
    const json = canonicalJson(messages);
    this.artifacts?.put(json, 'application/json').catch(this.onError);
    return { sha256: sha256Hex(json) };
  }
}
