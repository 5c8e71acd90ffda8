import { verbCommand } from '../../cli/command';

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

  it.each([[[]], [['bogus']], [['toString']], [['__proto__']]])('prints the usage and exits 2 for %p', async (argv) => {
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await expect(command.run(argv)).resolves.toBe(2);
      expect(errors).toHaveBeenCalledWith('usage: llmloop demo run|count');
    } finally {
      errors.mockRestore();
    }
  });
});
