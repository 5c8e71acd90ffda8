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
