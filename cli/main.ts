/** `bin/llmloop`: every command of the product. Add a command by adding it to COMMANDS. */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../core/config';
import { EXIT, execute, type Command } from './command';
import { datasetCommand } from './commands/dataset';
import { efficacyCommand } from './commands/efficacy';
import { healthCommand } from './commands/health';
import { indexCommand } from './commands/index';
import { parseCommand } from './commands/parse';
import { routeEvalCommand } from './commands/route-eval';
import { routingTableCommand } from './commands/routing-table';
import { runCommand } from './commands/run';
import { scheduleCommand } from './commands/schedule';
import { statusCommand } from './commands/status';
import { trainCommand } from './commands/train';

export const COMMANDS: Command[] = [runCommand, statusCommand, scheduleCommand, healthCommand, parseCommand, datasetCommand, routeEvalCommand, routingTableCommand, indexCommand, trainCommand, efficacyCommand];

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'llmloop: documents -> datasets -> fine-tuned LLM fleet -> cost-aware router, on Temporal',
    '',
    'usage: llmloop <command> [options]      llmloop help <command>      llmloop --version',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, LLMLOOP_DATA_DIR, LLMLOOP_GPU_CLASS (see README)',
  ].join('\n');
}

/** package.json's version: the one number a bug report needs. */
export function version(): string {
  return (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

const HELP = new Set(['help', '--help', '-h']);
const VERSION = new Set(['version', '--version', '-V']);

function unknownCommand(name: string): number {
  console.error(`llmloop: unknown command '${name}'\n\n${helpText()}`);
  return EXIT.usage;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name !== undefined && VERSION.has(name)) {
    console.log(`llmloop ${version()}`);
    return EXIT.ok;
  }
  if (name === undefined || HELP.has(name)) {
    const [topic] = rest;
    if (topic === undefined) {
      console.log(helpText());
      return EXIT.ok;
    }
    const command = COMMANDS.find((c) => c.name === topic);
    if (!command) return unknownCommand(topic);
    console.log(command.usage);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return unknownCommand(name);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return EXIT.ok;
  }
  return execute(command, rest);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`llmloop: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(EXIT.failure);
    },
  );
}
