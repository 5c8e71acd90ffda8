import { TypedError } from '../core/errors';

/** One `llmloop <name>` subcommand. Commands parse their own flags with node:util parseArgs. */
export interface Command {
  name: string;
  /** One line for `llmloop --help`. */
  summary: string;
  /** Full usage text for `llmloop <name> --help`. */
  usage: string;
  /** Returns the process exit code; a problem with the command line is thrown as a UsageError. */
  run(argv: string[]): Promise<number>;
}

/** Exit codes of every command (README → CLI → Exit codes). */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** The command line itself is wrong (a missing or unknown flag, a bad value): exit 2 with the command's usage. */
export class UsageError extends TypedError {
  constructor(message: string) {
    super('InvalidRequest', message);
  }
}

/** What node:util parseArgs throws for a command line it refuses; its `code` names the problem. */
interface ParseArgsError extends Error {
  code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' | 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' | 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL';
}

// Not `instanceof Error`: node's own errors come from another realm under jest's module sandbox.
function isParseArgsError(err: unknown): err is ParseArgsError {
  const code: unknown = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** parseArgs' messages quote the offending token first ("Unknown option '--foo'. To specify…"): say the same in one short line. */
function usageProblem(err: ParseArgsError): string {
  const token = /'([^']*)'/.exec(err.message)?.[1]?.replace(/ <value>$/, '');
  if (token === undefined) return err.message;
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${token}`;
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument '${token}'`;
  return err.message.includes('argument missing') ? `${token} needs a value` : `${token} takes no value`;
}

/** Problems found while reading the command line: the commands' own UsageErrors and parseArgs' refusals. */
function asUsageError(err: unknown): UsageError | undefined {
  if (err instanceof UsageError) return err;
  if (isParseArgsError(err)) return new UsageError(usageProblem(err));
  return undefined;
}

/**
 * Runs a command and turns what it throws into an exit code: usage problems print the message and
 * the command's usage (exit 2); typed failures print their type and message (exit 1); anything
 * else is rethrown for main's last-resort handler.
 */
export async function execute(command: Command, argv: string[]): Promise<number> {
  try {
    return await command.run(argv);
  } catch (err) {
    const usage = asUsageError(err);
    if (usage) {
      console.error(`llmloop ${command.name}: ${usage.message}\n\n${command.usage}`);
      return EXIT.usage;
    }
    if (err instanceof TypedError) {
      console.error(`llmloop ${command.name}: ${err.type}: ${err.message}`);
      return EXIT.failure;
    }
    throw err;
  }
}

type VerbHandler = (argv: string[]) => number | Promise<number>;

/** A command whose first argument names a verb (`llmloop dataset build …`); a missing or unknown verb is a usage error. */
export function verbCommand(spec: Omit<Command, 'run'> & { verbs: Record<string, VerbHandler> }): Command {
  const { verbs, ...command } = spec;
  const known = Object.keys(verbs).join(' | ');
  return {
    ...command,
    async run(argv) {
      const [verb, ...rest] = argv;
      const handler = verb !== undefined && Object.hasOwn(verbs, verb) ? verbs[verb] : undefined;
      if (handler) return handler(rest);
      throw new UsageError(verb === undefined ? `a verb is required: ${known}` : `unknown verb '${verb}' (known: ${known})`);
    },
  };
}
