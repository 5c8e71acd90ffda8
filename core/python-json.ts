/**
 * One JSON request to a Python module and its JSON answer: `python -m <module>` with the request on
 * stdin and the answer on stdout (trainers/efficacy.py, trainers/score_replies.py), so a statistic
 * or a metric is computed once, by the Python side that owns it.
 */
import { spawn } from 'node:child_process';
import { pythonExecutable, REPO_ROOT } from './config';

export function pythonJson<T>(module: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(pythonExecutable(), ['-m', module], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as T);
      else reject(new Error(`python -m ${module} exited ${code}: ${Buffer.concat(err).toString('utf8').trim().split('\n').slice(-3).join(' | ')}`));
    });
    child.stdin.end(JSON.stringify(request));
  });
}
