import { type ArgumentMetadata, BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { optionalFieldsOf, rawJsonFieldsOf } from './body-fields.js';
import { JsonTooDeepError, parseJsonText } from './json-text.js';
import { RawJson } from './raw-json.js';

/** Deeper JSON is refused: no client needs it, and deep enough JSON overflows any recursive reader. */
const MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const PLAIN_TYPES = new Set<unknown>([String, Number, Boolean, Array, Object]);

function describe(errors: readonly ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) =>
      text.startsWith(error.property) ? `${field}${text.slice(error.property.length)}` : `${field}: ${text}`,
    );
    return [...own, ...describe(error.children ?? [], field)];
  });
}

const fieldsByType = new WeakMap<object, ReadonlySet<string>>();

/** The fields a DTO declares (those with validation rules). */
function fieldsOf(type: new () => object): ReadonlySet<string> {
  let fields = fieldsByType.get(type);
  if (!fields) {
    fields = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(type, '', true, false)
        .map((rule) => rule.propertyName),
    );
    fieldsByType.set(type, fields);
  }
  return fields;
}

/** The bytes of a body, as a JSON object and the exact text of its members. */
function readBody(bytes: unknown): { plain: Record<string, unknown>; members: Map<string, string> } {
  // an empty chunked body is no body, as an absent one is
  if (bytes === undefined || (bytes as Buffer).length === 0) return { plain: {}, members: new Map() };
  let text: string;
  try {
    text = utf8.decode(bytes as Buffer);
  } catch {
    throw new BadRequestException('request body is not valid UTF-8');
  }
  let parsed: { value: unknown; members: Map<string, string> };
  try {
    parsed = parseJsonText(text, MAX_JSON_DEPTH);
  } catch (error) {
    if (error instanceof JsonTooDeepError) throw new BadRequestException(`request body nests deeper than ${MAX_JSON_DEPTH} levels`);
    throw new BadRequestException('request body is not valid JSON');
  }
  const { value } = parsed;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadRequestException('request body must be a JSON object');
  return { plain: value as Record<string, unknown>, members: parsed.members };
}

/**
 * Turns a request body (or query) into its DTO and validates it, naming
 * every offending field in one 400 answer. The cost is proportional to the
 * body: the JSON is parsed once, only the DTO's own fields are validated,
 * and values the DTO treats as opaque (`data`) are never walked, copied or
 * altered. Keys such as `__proto__` stay plain data.
 */
@Injectable()
export class ApiBodyPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const type = metadata.metatype as (new () => object) | undefined;
    if ((metadata.type !== 'body' && metadata.type !== 'query') || type === undefined || PLAIN_TYPES.has(type)) return value;
    const { plain, members } = metadata.type === 'body' ? readBody(value) : { plain: (value ?? {}) as Record<string, unknown>, members: undefined };
    // checked here, not by class-validator's whitelist, which takes `__proto__` and `constructor` for declared fields
    const fields = fieldsOf(type);
    const unknown = Object.keys(plain).filter((key) => !fields.has(key));
    if (unknown.length > 0) throw new BadRequestException(unknown.map((key) => `property ${key} should not exist`).join('; '));
    const optional = optionalFieldsOf(type);
    const dto = new type();
    for (const key of Object.keys(plain)) {
      if (plain[key] === null && optional.includes(key)) continue;
      // defined, not assigned: a `__proto__` key must stay a key, never become the prototype
      Object.defineProperty(dto, key, { value: plain[key], enumerable: true, writable: true, configurable: true });
    }
    const errors = validateSync(dto);
    if (errors.length > 0) throw new BadRequestException(describe(errors).join('; '));
    for (const key of rawJsonFieldsOf(type)) {
      const text = members?.get(key);
      if (text !== undefined && Object.hasOwn(dto, key)) Object.defineProperty(dto, key, { value: new RawJson(text), enumerable: true, writable: true });
    }
    return dto;
  }
}
