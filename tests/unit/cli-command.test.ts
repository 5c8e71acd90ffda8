import { EXIT, execute, UsageError, verbCommand, type Command } from '../../cli/command';
import { TypedError } from '../../core/errors';

describe('verbCommand', () => {
  const calls: string[][] = [];
  const command = verbCommand({
    name: 'demo',
    summary: 'a command with verbs',
    usage: 'usage: llmloop demo run|count',
    verbs: {
      run: async (argv) => (calls.push(argv), 0),
      count: (argv) => argv.length,
    },
  });

  it('hands the rest of the arguments to the named verb and returns its exit code', async () => {
    await expect(command.run(['run', '--flag', 'x'])).resolves.toBe(0);
    expect(calls).toEqual([['--flag', 'x']]);
    await expect(command.run(['count', 'a', 'b', 'c'])).resolves.toBe(3);
  });

  it.each([
    [[], 'a verb is required: run | count'],
    [['bogus'], "unknown verb 'bogus' (known: run | count)"],
    [['toString'], "unknown verb 'toString' (known: run | count)"],
    [['__proto__'], "unknown verb '__proto__' (known: run | count)"],
  ])('%p is a usage error naming the problem', async (argv, message) => {
    await expect(command.run(argv)).rejects.toEqual(new UsageError(message));
  });
});

describe('execute', () => {
  const failing = (err: unknown): Command => ({ name: 'demo', summary: '', usage: 'usage: llmloop demo X', run: () => Promise.reject(err) });

  async function stderrOf(command: Command): Promise<{ code: number; stderr: string }> {
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
    try {
      return { code: await execute(command, []), stderr: lines.join('\n') };
    } finally {
      spy.mockRestore();
    }
  }

  it('prints a usage error with the command’s usage and exits 2', async () => {
    await expect(stderrOf(failing(new UsageError('--x is required')))).resolves.toEqual({ code: EXIT.usage, stderr: 'llmloop demo: --x is required\n\nusage: llmloop demo X' });
  });

  it('turns parseArgs refusals into one short usage line', async () => {
    const refusal = (code: string, message: string) => Object.assign(new TypeError(message), { code });
    const cases: Array<[Error, string]> = [
      [refusal('ERR_PARSE_ARGS_UNKNOWN_OPTION', "Unknown option '--nope'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--nope\""), 'unknown flag --nope'],
      [refusal('ERR_PARSE_ARGS_INVALID_OPTION_VALUE', "Option '--out <value>' argument missing"), '--out needs a value'],
      [refusal('ERR_PARSE_ARGS_INVALID_OPTION_VALUE', "Option '--json' does not take an argument"), '--json takes no value'],
      [refusal('ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL', "Unexpected argument 'extra'. This command does not take positional arguments"), "unexpected argument 'extra'"],
    ];
    for (const [err, message] of cases) {
      await expect(stderrOf(failing(err))).resolves.toEqual({ code: EXIT.usage, stderr: `llmloop demo: ${message}\n\nusage: llmloop demo X` });
    }
  });

  it('prints a typed failure as TYPE: message and exits 1; anything else is rethrown', async () => {
    await expect(stderrOf(failing(new TypedError('CorruptDocument', 'bad xref')))).resolves.toEqual({ code: EXIT.failure, stderr: 'llmloop demo: CorruptDocument: bad xref' });
    await expect(execute(failing(new Error('boom')), [])).rejects.toThrow('boom');
  });
});
