/**
 * Turns schemas/constants.json (names both languages must agree on that are not payload shapes:
 * error types, task queues, search attributes, where the model catalog lives) into a TypeScript
 * and a Python module, so neither side writes them by hand.
 */

/** The shape of schemas/constants.json. */
export interface Constants {
  non_retryable_error_types: Record<string, string>;
  task_queues: { node: string; python_gpu_class_prefix: string };
  search_attributes: Record<string, ServerSearchAttributeType>;
  model_catalog: { env_var: string; default_path: string };
}

/** Types as the server spells them (`temporal server start-dev --search-attribute NAME=TYPE`), and the SDK's names. */
const SDK_SEARCH_ATTRIBUTE_TYPES = {
  Keyword: 'KEYWORD',
  Text: 'TEXT',
  Int: 'INT',
  Double: 'DOUBLE',
  Bool: 'BOOL',
  Datetime: 'DATETIME',
  KeywordList: 'KEYWORD_LIST',
} as const;
type ServerSearchAttributeType = keyof typeof SDK_SEARCH_ATTRIBUTE_TYPES;

export function parseConstants(text: string): Constants {
  const constants = JSON.parse(text) as Constants;
  for (const [name, type] of Object.entries(constants.search_attributes)) {
    if (!(type in SDK_SEARCH_ATTRIBUTE_TYPES)) throw new Error(`search attribute ${name}: unknown type ${type}`);
  }
  return constants;
}

const quote = JSON.stringify;
/** A TypeScript string literal in the house's single quotes. */
const tsQuote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function constantsTypeScript(constants: Constants, banner: string): string {
  const errorTypes = Object.entries(constants.non_retryable_error_types).map(([name, why]) => `  // ${why}\n  ${tsQuote(name)},`);
  const attributes = Object.entries(constants.search_attributes);
  const record = (value: (type: ServerSearchAttributeType) => string) => attributes.map(([name, type]) => `  ${name}: ${tsQuote(value(type))},`).join('\n');
  const { node, python_gpu_class_prefix: prefix } = constants.task_queues;
  return `${banner}
/** Failure types retrying cannot fix; any other type (I/O, network) retries. */
export const NON_RETRYABLE_ERROR_TYPES = [
${errorTypes.join('\n')}
] as const;

/** Task queue of the Node worker: every workflow and the Node activities. */
export const NODE_TASK_QUEUE = ${tsQuote(node)};

/** Task queue of the Python workers of one GPU class; \`cpu\` is the class of hosts without a GPU. */
export function gpuTaskQueue(gpuClass: string): string {
  return \`${prefix}\${gpuClass}\`;
}

/** Custom search attributes: name -> the SDK's SearchAttributeType. */
export const SEARCH_ATTRIBUTE_TYPES = {
${record((type) => SDK_SEARCH_ATTRIBUTE_TYPES[type])}
} as const;

/** The same attributes with the type as a server registers it (\`--search-attribute NAME=TYPE\`). */
export const SEARCH_ATTRIBUTE_SERVER_TYPES = {
${record((type) => type)}
} as const;

/** Variable that overrides the model catalog file. */
export const MODEL_CATALOG_ENV_VAR = ${tsQuote(constants.model_catalog.env_var)};
/** The model catalog file, relative to the repository root. */
export const DEFAULT_MODEL_CATALOG_PATH = ${tsQuote(constants.model_catalog.default_path)};
`;
}

/** Python gets what the Python worker uses: no workflow starts, no search attributes there. */
export function constantsPython(constants: Constants, banner: string): string {
  const errorTypes = Object.entries(constants.non_retryable_error_types).map(([name, why]) => `    # ${why}\n    ${quote(name)},`);
  return `${banner}
from __future__ import annotations

# Failure types retrying cannot fix; any other type (I/O, network) retries.
NON_RETRYABLE_ERROR_TYPES = (
${errorTypes.join('\n')}
)


def gpu_task_queue(gpu_class: str) -> str:
    """Task queue of the Python workers of one GPU class; \`cpu\` is the class of hosts without a GPU."""
    return f"${constants.task_queues.python_gpu_class_prefix}{gpu_class}"


# Variable that overrides the model catalog file.
MODEL_CATALOG_ENV_VAR = ${quote(constants.model_catalog.env_var)}
# The model catalog file, relative to the repository root.
DEFAULT_MODEL_CATALOG_PATH = ${quote(constants.model_catalog.default_path)}
`;
}
