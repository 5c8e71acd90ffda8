import { OpenAIError, parseChatRequest, parseJsonBody } from '../../../serving/chat-request';

const user = { role: 'user', content: 'hi' };

function rejection(body: unknown): OpenAIError {
  try {
    parseChatRequest(body);
  } catch (err) {
    return err as OpenAIError;
  }
  throw new Error('expected the request to be rejected');
}

test('defaults follow OpenAI: temperature 1, no limit, no stop, plain text', () => {
  expect(parseChatRequest({ messages: [user] })).toEqual({
    model: undefined,
    messages: [{ role: 'user', content: 'hi' }],
    maxTokens: undefined,
    temperature: 1,
    topP: undefined,
    seed: undefined,
    stop: [],
    stream: false,
    includeUsageInStream: false,
    format: { type: 'text' },
  });
});

test('developer is system, text parts are joined, max_completion_tokens wins over max_tokens', () => {
  const request = parseChatRequest({
    messages: [
      { role: 'developer', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
    ],
    max_tokens: 9,
    max_completion_tokens: 5,
    stop: 'END',
    stream: true,
    stream_options: { include_usage: true },
    response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
  });
  expect(request.messages).toEqual([
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'ab' },
  ]);
  expect(request).toMatchObject({ maxTokens: 5, stop: ['END'], stream: true, includeUsageInStream: true, format: { type: 'json_schema', schema: { type: 'object' } } });
});

test.each([
  [{ messages: [] }, 'messages'],
  [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].role'],
  [{ messages: [{ role: 'user', content: [{ type: 'image_url' }] }] }, 'messages[0].content'],
  [{ messages: [user], temperature: 3 }, 'temperature'],
  [{ messages: [user], max_tokens: 1.5 }, 'max_tokens'],
  [{ messages: [user], n: 2 }, 'n'],
  [{ messages: [user], stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
  [{ messages: [user], tools: [{}] }, 'tools'],
  [{ messages: [user], response_format: { type: 'json_schema', json_schema: {} } }, 'response_format'],
  [{ messages: [user], stream: 'yes' }, 'stream'],
])('%j is a 400 naming %s', (body, param) => {
  const error = rejection(body);
  expect(error).toBeInstanceOf(OpenAIError);
  expect(error.status).toBe(400);
  expect(error.param).toBe(param);
  expect(error.toBody().error.type).toBe('invalid_request_error');
});

test('malformed JSON is a 400 with code invalid_json', () => {
  expect(() => parseJsonBody('{"a":')).toThrow(expect.objectContaining({ status: 400, code: 'invalid_json' }));
});
