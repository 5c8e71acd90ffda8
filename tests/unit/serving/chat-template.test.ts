import fs from 'node:fs';
import path from 'node:path';
import { loadCatalog } from '../../../core/catalog';
import { CHAT_TEMPLATE_DIR, catalogChatTemplate, chooseChatTemplate, MissingChatTemplateError } from '../../../serving/chat-template';

describe('the chat template the llama.cpp server applies', () => {
  it("is the GGUF's own when it has one", () => {
    expect(chooseChatTemplate('{{ own }}', 'gemma')).toBe('{{ own }}');
  });

  it("is the catalog's for a GGUF without one (a base model such as Gemma-3-270M)", () => {
    expect(chooseChatTemplate(undefined, 'gemma')).toBe(fs.readFileSync(path.join(CHAT_TEMPLATE_DIR, 'gemma.jinja'), 'utf8'));
    expect(chooseChatTemplate('', 'gemma')).toContain('<start_of_turn>model');
  });

  it('refuses a model with neither', () => {
    expect(() => chooseChatTemplate(undefined, undefined)).toThrow(MissingChatTemplateError);
  });

  it('exists for every catalog model', () => {
    for (const model of loadCatalog().models) expect(catalogChatTemplate(model.chat_template)).not.toHaveLength(0);
  });
});
