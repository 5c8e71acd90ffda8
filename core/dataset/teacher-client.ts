/** The chat client for a build's teacher: key from the environment, responses cached under the data dir. */
import path from 'node:path';
import { loadConfig } from '../config';
import { ChatClient } from '../llm/client';
import type { TeacherConfig } from '../../schemas/generated/types';

export function teacherFromConfig(teacher: TeacherConfig, env: NodeJS.ProcessEnv = process.env): ChatClient {
  return new ChatClient({
    baseUrl: teacher.url,
    model: teacher.model,
    ...(env.LLMLOOP_TEACHER_API_KEY ? { apiKey: env.LLMLOOP_TEACHER_API_KEY } : {}),
    timeoutMs: teacher.timeout_ms ?? 60_000,
    maxRetries: teacher.max_retries ?? 3,
    concurrency: teacher.concurrency ?? 2,
    cacheDir: path.join(loadConfig(env).dataDir, 'llm-cache'),
  });
}
