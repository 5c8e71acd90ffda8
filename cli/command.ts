/** One `llmloop <name>` subcommand. Commands parse their own flags with node:util parseArgs. */
export interface Command {
  name: string;
  /** One line for `llmloop --help`. */
  summary: string;
  /** Full usage text for `llmloop <name> --help`. */
  usage: string;
  /** Returns the process exit code. */
  run(argv: string[]): Promise<number>;
}

type VerbHandler = (argv: string[]) => number | Promise<number>;

/** A command whose first argument names a verb (`llmloop dataset build …`); anything else prints the usage and exits 2. */
export function verbCommand(spec: Omit<Command, 'run'> & { verbs: Record<string, VerbHandler> }): Command {
  const { verbs, ...command } = spec;
  return {
    ...command,
    async run(argv) {
      const [verb, ...rest] = argv;
      const handler = verb !== undefined && Object.hasOwn(verbs, verb) ? verbs[verb] : undefined;
      if (handler) return handler(rest);
      console.error(command.usage);
      return 2;
    },
  };
}
