/**
 * The chat template the llama.cpp server applies, by the rule trainers/chat_templates.py applies in
 * training, evaluation and the adapter server: the model's own template (from its GGUF) when it ships
 * one, else config/chat-templates/<name>.jinja for the catalog's `chat_template` (base models such as
 * Gemma-3-270M ship none). node-llama-cpp renders that Jinja text itself, so both languages render the
 * same prompt; tests/python/test_chat_templates.py compares them through this file's CLI:
 *
 *   echo '{"template": NAME, "messages": [...], "bos_token": "<bos>", "eos_token": "<eos>"}' | node dist/serving/chat-template.js
 *
 * prints the prompt the server would build (special tokens spelled out) as a JSON string.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChatHistoryItem, ChatWrapper } from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import { REPO_ROOT } from '../core/config';
import type { ChatMessage } from './chat-request';

type NodeLlamaCpp = typeof import('node-llama-cpp', { with: { 'resolution-mode': 'import' } });

export const CHAT_TEMPLATE_DIR = path.join(REPO_ROOT, 'config', 'chat-templates');

export class MissingChatTemplateError extends Error {
  override name = 'MissingChatTemplateError';
}

/** The Jinja text of catalog chat template `name` (the catalog schema's chat_template enum). */
export function catalogChatTemplate(name: string): string {
  return fs.readFileSync(path.join(CHAT_TEMPLATE_DIR, `${name}.jinja`), 'utf8');
}

/** The model's own template, else the catalog's; a model with neither cannot be served as a chat model. */
export function chooseChatTemplate(ownTemplate: string | undefined, catalogTemplateName: string | undefined): string {
  if (ownTemplate) return ownTemplate;
  if (catalogTemplateName) return catalogChatTemplate(catalogTemplateName);
  throw new MissingChatTemplateError('the GGUF has no chat template and no catalog chat_template was given (serve a catalog model id, or pass --chat-template)');
}

/**
 * Renders the Jinja text itself rather than node-llama-cpp's look-alike wrapper for the model family
 * (its ChatML one drops SmolLM2's default system turn and adds a BOS): the prompt must be the one trained on.
 */
export function createChatWrapper(llamaCpp: NodeLlamaCpp, template: string): ChatWrapper {
  return new llamaCpp.JinjaTemplateChatWrapper({ template });
}

/** Every request opens a new assistant turn, also after a trailing assistant message. */
export function toChatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((message) => {
    switch (message.role) {
      case 'system':
        return { type: 'system', text: message.content };
      case 'user':
        return { type: 'user', text: message.content };
      case 'assistant':
        return { type: 'model', response: [message.content] };
    }
  });
  history.push({ type: 'model', response: [] });
  return history;
}

export interface RenderRequest {
  /** A catalog template name (config/chat-templates/) or, with `jinja`, the template text itself. */
  template: string;
  jinja?: boolean;
  messages: ChatMessage[];
  bos_token: string;
  eos_token: string;
}

/** The prompt the server builds for `messages`, with BOS/EOS written as the model's token texts. */
export async function renderChatPrompt(request: RenderRequest): Promise<string> {
  const llamaCpp: NodeLlamaCpp = await import('node-llama-cpp');
  const template = request.jinja ? request.template : catalogChatTemplate(request.template);
  const { contextText } = createChatWrapper(llamaCpp, template).generateContextState({ chatHistory: toChatHistory(request.messages) });
  const special: Record<string, string> = { BOS: request.bos_token, EOS: request.eos_token };
  return contextText.values
    .map((value) => {
      if (typeof value === 'string') return value;
      if (value instanceof llamaCpp.SpecialTokensText) return value.value;
      const text = special[value.value];
      if (text === undefined) throw new Error(`no text given for special token ${value.value}`);
      return text;
    })
    .join('');
}

if (require.main === module) {
  renderChatPrompt(JSON.parse(fs.readFileSync(0, 'utf8')) as RenderRequest)
    .then((prompt) => console.log(JSON.stringify(prompt)))
    .catch((err: unknown) => {
      console.error(`[chat-template] ${(err as Error).message}`);
      process.exit(1);
    });
}
