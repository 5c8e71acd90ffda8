/**
 * Validation against schemas/*.schema.json through the precompiled validators in
 * schemas/generated/ (no eval, no I/O: safe inside workflow code as well as in activities).
 */
import type { SchemaTypes } from '../schemas/generated/types';
import * as validators from '../schemas/generated/validators';

export type SchemaName = keyof SchemaTypes;

interface CompiledValidator {
  (data: unknown): boolean;
  errors?: { instancePath: string; message?: string; params?: Record<string, unknown> }[] | null;
}

export class SchemaValidationError extends Error {
  override name = 'SchemaValidationError';
  constructor(
    readonly schema: string,
    readonly problems: string[],
  ) {
    super(`payload does not match schema ${schema}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`);
  }
}

export function schemaProblems(name: SchemaName, value: unknown): string[] {
  const validator = (validators as unknown as Record<string, CompiledValidator>)[name];
  if (!validator) throw new Error(`no validator generated for schema ${name}; run make build`);
  if (validator(value)) return [];
  return (validator.errors ?? []).map((e) => {
    const extra = e.params && 'additionalProperty' in e.params ? ` '${String(e.params.additionalProperty)}'` : '';
    return `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${extra}`;
  });
}

/** Returns the value typed as the schema's type, or throws SchemaValidationError. */
export function validate<K extends SchemaName>(name: K, value: unknown): SchemaTypes[K] {
  const problems = schemaProblems(name, value);
  if (problems.length) throw new SchemaValidationError(name, problems);
  return value as SchemaTypes[K];
}
