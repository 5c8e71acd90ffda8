/** Every Node activity, registered by workers/node-worker.ts on the llmloop-cpu queue. */
export * from './health';
export * from './parse';
export * from './dataset';
export * from './lifecycle';
export * from './routing';
export * from './train';
export * from './cluster';
export * from './feedback-collection';
