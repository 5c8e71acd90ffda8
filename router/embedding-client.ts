/**
 * Request-time prompt embeddings from an OpenAI-compatible `POST /v1/embeddings` server (llmloop's
 * own `python -m trainers.embedding serve`, TEI, vLLM, OpenAI).
 *
 * It asks for `encoding_format: "base64"` (little-endian float32, as OpenAI defines it): a quarter of
 * the bytes of a JSON float array and no float parsing on either side, which matters on a path every
 * `auto` request waits for. Servers that ignore the field and answer with a float array still work.
 */
export interface EmbeddingEndpoint {
  /** Base URL ending in /v1. */
  baseUrl: string;
  model: string;
  timeoutMs: number;
  /** Bearer key the embedding server asks for (its LLMLOOP_EMBEDDING_API_KEY), if any. */
  apiKey?: string;
}

export interface EmbeddedPrompt {
  vector: Float32Array;
  /** model id -> predicted quality, when a router was asked for and answered. */
  predicted: Map<string, number> | null;
}

export class EmbeddingClient {
  constructor(private readonly endpoint: EmbeddingEndpoint) {}

  async embed(text: string): Promise<Float32Array> {
    return (await this.embedAndPredict(text)).vector;
  }

  /**
   * The prompt's embedding and, with `routerSha256` (a TableRouter artifact), each model's predicted
   * quality from llmloop's embedding server in the same call (trainers/router_predictors.py runs there).
   */
  async embedAndPredict(text: string, routerSha256?: string): Promise<EmbeddedPrompt> {
    const { baseUrl, model, timeoutMs, apiKey } = this.endpoint;
    const response = await fetch(`${baseUrl}/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
      body: JSON.stringify({ model, input: text, encoding_format: 'base64', ...(routerSha256 ? { llmloop_router: routerSha256 } : {}) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`embedding server answered ${response.status}${response.status === 422 ? ` (${await response.text()})` : ''}`);
    const payload = (await response.json()) as { data?: { embedding?: unknown; quality?: unknown }[]; router_models?: unknown };
    return { vector: decodeEmbedding(payload.data?.[0]?.embedding), predicted: routerSha256 ? decodePredictions(payload.router_models, payload.data?.[0]?.quality) : null };
  }
}

/** model id -> predicted quality, or an error for a reply whose predictions do not line up with its models. */
export function decodePredictions(models: unknown, quality: unknown): Map<string, number> {
  if (
    !Array.isArray(models) ||
    !Array.isArray(quality) ||
    models.length !== quality.length ||
    !models.every((m) => typeof m === 'string') ||
    !quality.every((q) => typeof q === 'number' && q >= 0 && q <= 1)
  ) {
    throw new Error('embedding server returned no router predictions');
  }
  return new Map(models.map((m, i) => [m as string, quality[i] as number]));
}

export function decodeEmbedding(embedding: unknown): Float32Array {
  if (typeof embedding === 'string') {
    const bytes = Buffer.from(embedding, 'base64');
    if (bytes.length === 0 || bytes.length % 4 !== 0) throw new Error(`embedding server returned ${bytes.length} base64 bytes, not float32 values`);
    // Copy into an aligned buffer: Buffer.from may hand out a slice of its pool at any offset.
    return new Float32Array(new Uint8Array(bytes).buffer);
  }
  if (Array.isArray(embedding) && embedding.length > 0 && embedding.every((x) => typeof x === 'number')) return Float32Array.from(embedding);
  throw new Error('embedding server returned no vector');
}
