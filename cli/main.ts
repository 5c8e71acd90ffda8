/** `bin/llmloop`: every command of the product. Add a command by adding it to COMMANDS. */
import type { Command } from './command';
import { datasetCommand } from './commands/dataset';
import { healthCommand } from './commands/health';
import { indexCommand } from './commands/index';
import { parseCommand } from './commands/parse';
import { routeEvalCommand } from './commands/route-eval';
import { routingTableCommand } from './commands/routing-table';
import { runCommand } from './commands/run';
import { scheduleCommand } from './commands/schedule';
import { statusCommand } from './commands/status';
import { trainCommand } from './commands/train';

export const COMMANDS: Command[] = [runCommand, statusCommand, scheduleCommand, healthCommand, parseCommand, datasetCommand, routeEvalCommand, routingTableCommand, indexCommand, trainCommand];

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'llmloop: documents -> datasets -> fine-tuned LLM fleet -> cost-aware router, on Temporal',
    '',
    'usage: llmloop <command> [options]      llmloop <command> --help',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, LLMLOOP_DATA_DIR, LLMLOOP_GPU_CLASS (see README)',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(helpText());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`llmloop: unknown command '${name}'\n\n${helpText()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  return command.run(rest);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`llmloop: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
