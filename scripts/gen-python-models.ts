/**
 * Emits pydantic models for the schema types the Python worker reads field by field, so it reads
 * `entry.memory_gb.lora` with a type instead of `entry["memory_gb"]["lora"]`. Payloads are still
 * validated by jsonschema against the same files (trainers/schemas.py, which knows every keyword);
 * the models carry the shape and the `default`s, not every constraint.
 *
 * A property may name per-stage defaults with `x-default-by-stage: {stage: value}` (the learning
 * rate differs per training stage); they become `<TYPE>_DEFAULTS_BY_STAGE`.
 */

type JsonObject = { [key: string]: unknown };
export interface NamedSchema {
  file: string;
  pointer: string;
  schema: JsonObject;
}

const PYTHON_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(' '),
);
/** Attribute names BaseModel already uses. */
const BASE_MODEL_NAMES = new Set(['copy', 'dict', 'json', 'schema', 'construct', 'validate', 'fields', 'model_config', 'model_fields']);

const pascal = (name: string) => name.replace(/(^|[_\-.])([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
const screamingSnake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function pythonLiteral(value: unknown, asFloat = false): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return asFloat && Number.isInteger(value) ? `${value}.0` : JSON.stringify(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => pythonLiteral(v)).join(', ')}]`;
  return `{${Object.entries(value as JsonObject)
    .map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`)
    .join(', ')}}`;
}

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

function docstring(description: unknown): string[] {
  if (typeof description !== 'string') return [];
  const lines = wrap(description.replace(/\\/g, '\\\\'), 104);
  if (lines.length === 1) return [`    """${lines[0]}"""`, ''];
  return [`    """${lines[0]}`, ...lines.slice(1).map((l) => `    ${l}`), '    """', ''];
}

export class PythonModelEmitter {
  private readonly emitted = new Set<string>();
  private readonly blocks: string[] = [];
  private readonly typing = new Set<string>();

  constructor(
    private readonly named: Map<string, NamedSchema>,
    private readonly files: Map<string, JsonObject>,
  ) {}

  /** The type a `$ref` names: a definition's key, or the title of a whole file. */
  private refName(ref: string, fromFile: string): string {
    const [target, pointer] = ref.split('#');
    if (pointer) return pointer.split('/').pop()!;
    return String(this.files.get(target || fromFile)?.title);
  }

  emit(name: string): void {
    if (this.emitted.has(name)) return;
    this.emitted.add(name);
    const entry = this.named.get(name);
    if (!entry) throw new Error(`no schema type named ${name}`);
    const { schema, file } = entry;
    if (schema.type === 'object' && schema.properties) this.emitClass(name, schema, file);
    else this.blocks.push(`${name} = ${this.typeOf(schema, file, name)}`);
  }

  private emitClass(name: string, schema: JsonObject, file: string): void {
    const required = new Set((schema.required ?? []) as string[]);
    const fields: string[] = [];
    const stageDefaults: Record<string, Record<string, unknown>> = {};
    let aliased = false;
    for (const [property, sub] of Object.entries(schema.properties as Record<string, JsonObject>)) {
      const type = this.typeOf(sub, file, `${name}${pascal(property)}`);
      const attribute = PYTHON_KEYWORDS.has(property) || BASE_MODEL_NAMES.has(property) ? `${property}_` : property;
      const alias = attribute === property ? '' : `alias=${JSON.stringify(property)}`;
      aliased ||= alias !== '';
      let declaration: string;
      if (required.has(property)) declaration = alias ? `${type} = Field(${alias})` : type;
      else if ('default' in sub) {
        const value = pythonLiteral(sub.default, sub.type === 'number');
        declaration = alias ? `${type} = Field(${value}, ${alias})` : `${type} = ${value}`;
      } else declaration = alias ? `${type} | None = Field(None, ${alias})` : `${type} | None = None`;
      if (typeof sub.description === 'string') fields.push(...wrap(sub.description, 104).map((l) => `    #: ${l}`));
      fields.push(`    ${attribute}: ${declaration}`);
      for (const [stage, value] of Object.entries((sub['x-default-by-stage'] ?? {}) as JsonObject)) {
        (stageDefaults[stage] ??= {})[property] = value;
      }
    }
    const extra = schema.additionalProperties === false ? 'forbid' : 'allow';
    const config = [`extra="${extra}"`, 'frozen=True', ...(aliased ? ['populate_by_name=True'] : [])].join(', ');
    this.blocks.push([`class ${name}(BaseModel):`, ...docstring(schema.description), `    model_config = ConfigDict(${config})`, '', ...fields].join('\n'));
    if (Object.keys(stageDefaults).length) {
      this.typing.add('Any');
      const stages = Object.entries(stageDefaults).map(([stage, values]) => `    ${JSON.stringify(stage)}: ${pythonLiteral(values)},`);
      this.blocks.push(`${screamingSnake(name)}_DEFAULTS_BY_STAGE: dict[str, dict[str, Any]] = {\n${stages.join('\n')}\n}`);
    }
  }

  private typeOf(schema: JsonObject, file: string, hint: string): string {
    if (typeof schema.$ref === 'string') {
      const target = this.refName(schema.$ref, file);
      this.emit(target);
      return target;
    }
    if ('const' in schema) return this.literal([schema.const]);
    if (Array.isArray(schema.enum)) return this.literal(schema.enum);
    const alternatives = (schema.oneOf ?? schema.anyOf) as JsonObject[] | undefined;
    if (alternatives && schema.type === undefined) return alternatives.map((a, i) => this.typeOf(a, file, `${hint}${i}`)).join(' | ');
    switch (schema.type) {
      case 'string':
        return 'str';
      case 'integer':
        return 'int';
      case 'number':
        return 'float';
      case 'boolean':
        return 'bool';
      case 'array':
        return `list[${schema.items ? this.typeOf(schema.items as JsonObject, file, `${hint}Item`) : this.any()}]`;
      case 'object':
        if (schema.properties) {
          this.emitted.add(hint);
          this.emitClass(hint, schema, file);
          return hint;
        }
        return `dict[str, ${typeof schema.additionalProperties === 'object' ? this.typeOf(schema.additionalProperties as JsonObject, file, `${hint}Value`) : this.any()}]`;
      default:
        return this.any();
    }
  }

  private literal(values: unknown[]): string {
    this.typing.add('Literal');
    return `Literal[${values.map((v) => pythonLiteral(v)).join(', ')}]`;
  }

  private any(): string {
    this.typing.add('Any');
    return 'Any';
  }

  /** The module: every requested type and what it refers to, each defined before its first use. */
  module(banner: string): string {
    const typing = [...this.typing].sort().join(', ');
    return [
      `${banner}\nfrom __future__ import annotations\n\n${typing ? `from typing import ${typing}\n\n` : ''}from pydantic import BaseModel, ConfigDict${this.blocks.some((b) => b.includes('Field(')) ? ', Field' : ''}`,
      ...this.blocks,
    ].join('\n\n\n') + '\n';
  }
}

export function pythonModels(named: Map<string, NamedSchema>, files: Map<string, JsonObject>, roots: readonly string[], banner: string): string {
  const emitter = new PythonModelEmitter(named, files);
  for (const root of roots) emitter.emit(root);
  return emitter.module(banner);
}
