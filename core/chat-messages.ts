/** OpenAI chat messages as the gateway receives and logs them. */
export interface ChatMessageLike {
  role?: unknown;
  content?: unknown;
}

/** The text a request is about: its last user message (or its last message), text parts joined. */
export function lastUserText(messages: readonly ChatMessageLike[]): string {
  const message = [...messages].reverse().find((m) => m.role === 'user') ?? messages[messages.length - 1];
  const content = message?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part: unknown) => (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '')).join('\n');
  }
  return '';
}
