/**
 * One GGUF model on llama.cpp (node-llama-cpp's prebuilt binaries) behind a bounded request queue:
 * `parallel` context sequences generate concurrently, at most `maxQueued` more requests wait,
 * and anything beyond that is refused at once (503) instead of piling up behind a slow model.
 */
import type {
  ChatWrapper,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
} from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import { chooseChatTemplate, createChatWrapper, toChatHistory } from './chat-template';
import { OpenAIError, type ChatRequest, type FinishReason, type OutputFormat } from './chat-request';

type NodeLlamaCpp = typeof import('node-llama-cpp', { with: { 'resolution-mode': 'import' } });

export interface LlamaEngineOptions {
  modelPath: string;
  /** The catalog's chat template name, applied when the GGUF has no template of its own (serving/chat-template.ts). */
  catalogChatTemplate: string | undefined;
  /** CPU threads for generation. */
  threads: number;
  /** Tokens each sequence can hold (prompt + completion). */
  contextSize: number;
  /** Sequences generating at the same time. */
  parallel: number;
  /** Requests allowed to wait for a free sequence. */
  maxQueued: number;
  /** `false` pins llama.cpp to the CPU; `auto` uses a prebuilt CUDA/Vulkan binary when the host has the GPU. */
  gpu: 'auto' | false;
}

export interface Generation {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
}

export interface GenerateHooks {
  onText?: (text: string) => void;
  /** Aborting (client gone) frees the sequence: queued requests leave the queue, running ones stop. */
  signal?: AbortSignal;
}

/** Distinct response schemas a server keeps compiled; teachers reuse a handful. */
const GRAMMAR_CACHE_SIZE = 64;

export class LlamaEngine {
  private readonly freeSequences: LlamaContextSequence[];
  private readonly waiting: Array<(sequence: LlamaContextSequence) => void> = [];
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();

  private constructor(
    private readonly llamaCpp: NodeLlamaCpp,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly chatWrapper: ChatWrapper,
    private readonly maxQueued: number,
  ) {
    this.freeSequences = Array.from({ length: context.totalSequences }, () => context.getSequence());
  }

  static async load(options: LlamaEngineOptions): Promise<LlamaEngine> {
    // node-llama-cpp is ESM-only; this stays a real dynamic import in the CommonJS output (module: nodenext).
    const llamaCpp: NodeLlamaCpp = await import('node-llama-cpp');
    // Only the binaries shipped in @node-llama-cpp/* are used: nothing is downloaded or compiled at run time.
    const llama = await llamaCpp.getLlama({
      gpu: options.gpu,
      build: 'never',
      usePrebuiltBinaries: true,
      skipDownload: true,
      progressLogs: false,
      logLevel: llamaCpp.LlamaLogLevel.error,
      maxThreads: options.threads,
    });
    const model = await llama.loadModel({ modelPath: options.modelPath });
    const chatWrapper = createChatWrapper(llamaCpp, chooseChatTemplate(model.fileInfo.metadata?.tokenizer?.chat_template, options.catalogChatTemplate));
    const context = await model.createContext({
      sequences: options.parallel,
      contextSize: options.contextSize,
      threads: options.threads,
    });
    return new LlamaEngine(llamaCpp, llama, model, context, chatWrapper, options.maxQueued);
  }

  get contextSize(): number {
    return this.context.contextSize;
  }

  async generate(request: ChatRequest, hooks: GenerateHooks = {}): Promise<Generation> {
    const grammar = await this.grammarFor(request.format);
    const sequence = await this.acquire(hooks.signal);
    const chat = new this.llamaCpp.LlamaChat({ contextSequence: sequence, chatWrapper: this.chatWrapper });
    try {
      const history = toChatHistory(request.messages);
      const promptTokens = chat.chatWrapper
        .generateContextState({ chatHistory: history })
        .contextText.tokenize(this.model.tokenizer).length;
      const room = sequence.contextSize - promptTokens;
      if (room <= 0) {
        throw new OpenAIError(400, 'invalid_request_error', `the prompt has ${promptTokens} tokens; this server's context holds ${sequence.contextSize}`, 'context_length_exceeded', 'messages');
      }
      const meterBefore = sequence.tokenMeter.getState();
      const result = await chat.generateResponse(history, {
        maxTokens: Math.min(request.maxTokens ?? room, room),
        temperature: request.temperature,
        ...(request.topP !== undefined ? { topP: request.topP } : {}),
        ...(request.seed !== undefined ? { seed: request.seed } : {}),
        ...(request.stop.length ? { customStopTriggers: request.stop } : {}),
        ...(grammar ? { grammar } : {}),
        ...(hooks.onText ? { onTextChunk: hooks.onText } : {}),
        ...(hooks.signal ? { signal: hooks.signal, stopOnAbortSignal: true } : {}),
      });
      return {
        text: result.response,
        finishReason: result.metadata.stopReason === 'maxTokens' ? 'length' : 'stop',
        promptTokens,
        completionTokens: sequence.tokenMeter.diff(meterBefore).usedOutputTokens,
      };
    } finally {
      chat.dispose({ disposeSequence: false });
      this.release(sequence);
    }
  }

  async close(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }

  private grammarFor(format: OutputFormat): Promise<LlamaGrammar> | undefined {
    if (format.type === 'text') return undefined;
    const key = format.type === 'json_object' ? 'json_object' : JSON.stringify(format.schema);
    let grammar = this.grammars.get(key);
    if (!grammar) {
      grammar = (
        format.type === 'json_object'
          ? this.llama.getGrammarFor('json')
          : this.llama.createGrammarForJsonSchema(format.schema as Parameters<Llama['createGrammarForJsonSchema']>[0])
      ).catch((err: unknown) => {
        this.grammars.delete(key);
        throw new OpenAIError(400, 'invalid_request_error', `response_format schema cannot be enforced: ${(err as Error).message}`, 'unsupported_schema', 'response_format');
      });
      if (this.grammars.size >= GRAMMAR_CACHE_SIZE) this.grammars.delete(this.grammars.keys().next().value!);
      this.grammars.set(key, grammar);
    }
    return grammar;
  }

  private acquire(signal: AbortSignal | undefined): Promise<LlamaContextSequence> {
    if (signal?.aborted) return Promise.reject(clientClosed());
    const free = this.freeSequences.pop();
    if (free) return Promise.resolve(free);
    if (this.waiting.length >= this.maxQueued) {
      return Promise.reject(new OpenAIError(503, 'server_overloaded', `all ${this.context.totalSequences} sequences are busy and ${this.maxQueued} requests are queued; retry later`, 'queue_full'));
    }
    return new Promise((resolve, reject) => {
      const grant = (sequence: LlamaContextSequence) => {
        signal?.removeEventListener('abort', leave);
        resolve(sequence);
      };
      const leave = () => {
        this.waiting.splice(this.waiting.indexOf(grant), 1);
        reject(clientClosed());
      };
      signal?.addEventListener('abort', leave, { once: true });
      this.waiting.push(grant);
    });
  }

  private release(sequence: LlamaContextSequence): void {
    const next = this.waiting.shift();
    if (next) next(sequence);
    else this.freeSequences.push(sequence);
  }
}

/** Nobody reads this reply; the status follows nginx's convention for a client that went away. */
function clientClosed(): OpenAIError {
  return new OpenAIError(499, 'invalid_request_error', 'client closed the request before it was served', 'client_closed');
}
