import { clientAskedForUsage, StreamUsageTap, withUsageRequested } from '../../../router/stream-usage';

const event = (payload: unknown, newline = '\n') => `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}${newline}${newline}`;
const delta = (content: string) => event({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] });
const usageEvent = event({ object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } });
const upstream = delta('Hel') + delta('lo') + usageEvent + event('[DONE]');

/** Feeds the stream in pieces of `size` bytes, as the network may cut it. */
function pipe(tap: StreamUsageTap, text: string, size: number): string {
  const bytes = new TextEncoder().encode(text);
  let out = '';
  for (let i = 0; i < bytes.length; i += size) out += tap.push(bytes.subarray(i, i + size));
  return out + tap.end();
}

describe('StreamUsageTap', () => {
  it.each([1, 3, 17, 10_000])('reads total_tokens and drops the usage event the client did not ask for (pieces of %i bytes)', (size) => {
    const tap = new StreamUsageTap(false);
    expect(pipe(tap, upstream, size)).toBe(delta('Hel') + delta('lo') + event('[DONE]'));
    expect(tap.totalTokens).toBe(10);
  });

  it('passes the usage event on when the client asked for it', () => {
    const tap = new StreamUsageTap(true);
    expect(pipe(tap, upstream, 5)).toBe(upstream);
    expect(tap.totalTokens).toBe(10);
  });

  it('splits multi-byte characters safely and keeps CRLF framing', () => {
    const text = event({ choices: [{ delta: { content: '你好，世界' } }] }, '\r\n') + event('[DONE]', '\r\n');
    expect(pipe(new StreamUsageTap(false), text, 2)).toBe(text);
  });

  it('leaves streams without usage, and malformed data, as they are', () => {
    const text = delta('a') + event('{"usage": broken') + 'data: [DONE]';
    const tap = new StreamUsageTap(false);
    expect(pipe(tap, text, 4)).toBe(text);
    expect(tap.totalTokens).toBeUndefined();
  });
});

describe('stream_options', () => {
  it('asks the upstream for usage and keeps the client\'s other options', () => {
    expect(withUsageRequested({ model: 'm', stream: true, stream_options: { other: 1 } })).toEqual({ model: 'm', stream: true, stream_options: { other: 1, include_usage: true } });
    expect(clientAskedForUsage({ stream_options: { include_usage: true } })).toBe(true);
    expect(clientAskedForUsage({ stream_options: null })).toBe(false);
    expect(clientAskedForUsage({})).toBe(false);
  });
});
