/**
 * `bin/llmloop`'s conventions, through main() as a user types them: version and help spellings,
 * usage errors (exit 2, the flag named, the command's usage), typed failures (exit 1), --json on
 * every list command, and what run/status/health/schedule say when no Temporal server answers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT } from '../../cli/command';
import { COMMANDS, main } from '../../cli/main';
import { freePort } from '../../core/devserver';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `llmloop ...argv` in this process and captures what it prints. */
async function llmloop(...argv: string[]): Promise<Outcome> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void stdout.push(args.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void stderr.push(args.join(' ')));
  try {
    const code = await main(argv);
    return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const usageOf = (name: string) => COMMANDS.find((c) => c.name === name)!.usage;
const VERSION = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

describe('llmloop version and help', () => {
  it.each([['--version'], ['-V'], ['version']])('%s prints the package version', async (flag) => {
    await expect(llmloop(flag)).resolves.toEqual({ code: EXIT.ok, stdout: `llmloop ${VERSION}`, stderr: '' });
  });

  it('help COMMAND and COMMAND --help print that command’s usage', async () => {
    await expect(llmloop('help', 'parse')).resolves.toEqual({ code: EXIT.ok, stdout: usageOf('parse'), stderr: '' });
    await expect(llmloop('route-eval', '--help')).resolves.toEqual({ code: EXIT.ok, stdout: usageOf('route-eval'), stderr: '' });
  });

  it('an unknown command or help topic is a usage error', async () => {
    for (const argv of [['bogus'], ['help', 'bogus']]) {
      const { code, stderr } = await llmloop(...argv);
      expect(code).toBe(EXIT.usage);
      expect(stderr).toContain("unknown command 'bogus'");
    }
  });
});

describe('llmloop usage errors: exit 2, the problem named, the command’s usage', () => {
  it.each([
    [['parse', 'a.pdf', '--out', 'x', '--bogus'], 'unknown flag --bogus', 'parse'],
    [['parse', 'a.pdf'], '--out DIR is required', 'parse'],
    [['parse', 'a.pdf', '--out'], '--out needs a value', 'parse'],
    [['parse', '--out', 'x', '--max-pages', 'many', 'a.pdf'], '--max-pages expects an integer >= 1, got "many"', 'parse'],
    [['route-eval', '--scores', 's.csv', '--out', 'r.json', '--sample', '0'], '--sample expects an integer >= 1, got "0"', 'route-eval'],
    [['route-eval', '--scores', 's.csv', '--out', 'r.json', '--sample=-5'], '--sample expects an integer >= 1, got "-5"', 'route-eval'],
    [['route-eval', '--out', 'r.json'], '--scores FILE.csv is required', 'route-eval'],
    [['status'], 'a RUN_ID is required', 'status'],
    [['status', 'id', '--jsn'], 'unknown flag --jsn', 'status'],
    [['run'], 'at least one document or folder (DOCS) is required', 'run'],
    [['health', 'extra'], "unexpected argument 'extra'", 'health'],
    [['schedule', 'create', 'nightly', 'samples/corpus'], '--cron EXPR is required', 'schedule'],
    [['schedule', 'pause'], 'a schedule ID is required', 'schedule'],
    [['schedule', 'frobnicate'], "unknown action 'frobnicate'", 'schedule'],
    [['routing-table', 'rollback'], '--to VERSION is required', 'routing-table'],
    [['train', 'model', '--sft', 'x.jsonl'], '--model ID is required', 'train'],
    [['index', 'lsit'], "unknown verb 'lsit'", 'index'],
    [['dataset', 'build', 'parsed/'], '--out DIR is required', 'dataset'],
    [['dataset'], 'a verb is required', 'dataset'],
  ])('llmloop %p', async (argv, problem, command) => {
    const { code, stdout, stderr } = await llmloop(...argv);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe('');
    expect(stderr.startsWith(`llmloop ${command}: ${problem}`)).toBe(true);
    expect(stderr.endsWith(`\n\n${usageOf(command)}`)).toBe(true);
  });
});

describe('llmloop list commands', () => {
  const env = { ...process.env };
  beforeEach(() => {
    process.env.LLMLOOP_DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'llmloop-cli-lists-'));
  });
  afterEach(() => {
    fs.rmSync(process.env.LLMLOOP_DATA_DIR!, { recursive: true, force: true });
    process.env = { ...env };
  });

  it.each([
    [['index', 'list'], 'no index has been recorded yet'],
    [['routing-table', 'list'], 'no routing table has been published yet'],
  ])('%p says an empty list is empty, and --json prints []', async (argv, empty) => {
    const text = await llmloop(...argv);
    expect(text).toEqual({ code: EXIT.ok, stdout: '', stderr: expect.stringContaining(empty) });
    await expect(llmloop(...argv, '--json')).resolves.toEqual({ code: EXIT.ok, stdout: '[]', stderr: '' });
  });

  it('train catalog --json lists every catalog model with its placements', async () => {
    const { code, stdout } = await llmloop('train', 'catalog', '--json');
    expect(code).toBe(EXIT.ok);
    const rows = JSON.parse(stdout) as Array<{ model_id: string; placements: Record<string, string> }>;
    expect(rows).toContainEqual(expect.objectContaining({ model_id: 'smollm2-135m', placements: expect.objectContaining({ lora: 'cpu' }) }));
  });
});

describe('llmloop without a reachable Temporal server', () => {
  const env = { ...process.env };
  afterAll(() => {
    process.env = { ...env };
  });

  // Nothing listens on a port just freed; the SDK waits out its 10 s connect deadline, so the four run at once.
  it('run, status, health and schedule name the address they tried and how to start a server (exit 1)', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    process.env.TEMPORAL_ADDRESS = address;
    const stderr: string[] = [];
    const error = jest.spyOn(console, 'error').mockImplementation((line: string) => void stderr.push(line));
    try {
      const argvs = [['run', path.join(__dirname, '..', '..', 'samples', 'corpus'), '--detach'], ['status', 'lifecycle-x'], ['health'], ['schedule', 'list']];
      await expect(Promise.all(argvs.map((argv) => main(argv)))).resolves.toEqual([EXIT.failure, EXIT.failure, EXIT.failure, EXIT.failure]);
      expect(stderr.map((line) => line.split(':')[0]).sort()).toEqual(['llmloop health', 'llmloop run', 'llmloop schedule', 'llmloop status']);
    } finally {
      error.mockRestore();
    }
    for (const line of stderr) {
      expect(line).toContain(`TemporalUnreachable: no Temporal server answered at ${address}`);
      expect(line).toContain("'make demo'");
      expect(line).toContain('temporal server start-dev');
      expect(line).toContain('TEMPORAL_ADDRESS');
    }
  }, 30_000);
});
