/**
 * Token usage of a streamed chat completion, read as the SSE passes through the gateway.
 *
 * The gateway asks every upstream for `stream_options.include_usage`, so a streamed answer is priced
 * from the tokens it really used, like a non-streamed one. OpenAI-compatible servers then send one
 * extra event before `[DONE]`: a chunk with empty `choices` and the `usage`. A client that did not ask
 * for it does not get that event, so what it receives is what the upstream would have sent it.
 */
export function withUsageRequested(body: Record<string, unknown>): Record<string, unknown> {
  const options = typeof body.stream_options === 'object' && body.stream_options !== null ? body.stream_options : {};
  return { ...body, stream_options: { ...options, include_usage: true } };
}

export function clientAskedForUsage(body: Record<string, unknown>): boolean {
  return (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
}

const EVENT_END = /\r?\n\r?\n/;

export class StreamUsageTap {
  /** `total_tokens` of the usage event, once seen. */
  totalTokens: number | undefined;
  private pending = '';
  private readonly decoder = new TextDecoder();

  constructor(private readonly forwardUsageEvent: boolean) {}

  /** Takes the next upstream bytes; returns what to send on (whole events only). */
  push(chunk: Uint8Array): string {
    this.pending += this.decoder.decode(chunk, { stream: true });
    let out = '';
    for (let end = EVENT_END.exec(this.pending); end; end = EVENT_END.exec(this.pending)) {
      const eventEnd = end.index + end[0].length;
      const event = this.pending.slice(0, eventEnd);
      this.pending = this.pending.slice(eventEnd);
      if (this.keep(event)) out += event;
    }
    return out;
  }

  /** What is left when the upstream ends (an unterminated last event is passed on as it is). */
  end(): string {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    return rest;
  }

  private keep(event: string): boolean {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    if (!data.includes('"usage"')) return true;
    let chunk: { usage?: { total_tokens?: unknown } | null; choices?: unknown[] };
    try {
      chunk = JSON.parse(data) as typeof chunk;
    } catch {
      return true;
    }
    const tokens = chunk.usage?.total_tokens;
    if (typeof tokens === 'number') this.totalTokens = tokens;
    const usageOnly = typeof tokens === 'number' && Array.isArray(chunk.choices) && chunk.choices.length === 0;
    return !usageOnly || this.forwardUsageEvent;
  }
}
