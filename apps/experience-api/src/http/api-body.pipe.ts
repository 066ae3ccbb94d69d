import { type ArgumentMetadata, BadRequestException, Injectable, PayloadTooLargeException, type PipeTransform } from '@nestjs/common';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { optionalFieldsOf, rawJsonFieldsOf } from './body-fields.js';
import { JsonTooDeepError, parseJsonArrayText, parseJsonText } from './json-text.js';
import { RawJson } from './raw-json.js';

/** Deeper JSON is refused: no client needs it, and deep enough JSON overflows any recursive reader. */
export const MAX_JSON_DEPTH = 64;

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
 * Turns a parsed JSON object into the DTO `type` and validates it, naming every
 * offending field in one BadRequestException; `members` holds the exact text of
 * the object's members, for the fields the DTO keeps as RawJson. Used by the
 * pipe below for a whole body, and by routes that take a list of such objects.
 */
export function toDto<T extends object>(type: new () => T, plain: Record<string, unknown>, members: ReadonlyMap<string, string> | undefined): T {
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
    return toDto(type, plain, members);
  }
}

/** An element of an array body that was refused on its own, with the status a body of its own would have got. */
export class ItemRefusal {
  constructor(
    readonly status: 400 | 413,
    readonly message: string,
  ) {}
}

export interface ArrayBodyLimits {
  /** Most elements; more is a 413. */
  readonly maxItems: number;
  /** Largest element, in bytes of its JSON text; larger is a refusal of that element (413). */
  readonly maxItemBytes: number;
  /** What an element is, for messages: `entity`. */
  readonly noun: string;
}

/**
 * Reads a body that is a JSON array of objects, each turned into the DTO
 * `type` and validated as a body of its own would be (same rules, same
 * messages, each element allowed the depth of a whole body). The body as a
 * whole (not UTF-8, not JSON, too deep, not an array, empty, too many
 * elements) is refused by throwing; an element that breaks a rule becomes an
 * ItemRefusal in its place, and the others are read on.
 */
export function readArrayBody<T extends object>(bytes: unknown, type: new () => T, limits: ArrayBodyLimits): Array<T | ItemRefusal> {
  const nonEmpty = `request body must be a JSON array of 1 to ${limits.maxItems} ${limits.noun} objects`;
  if (bytes === undefined || (bytes as Buffer).length === 0) throw new BadRequestException(nonEmpty);
  let text: string;
  try {
    text = utf8.decode(bytes as Buffer);
  } catch {
    throw new BadRequestException('request body is not valid UTF-8');
  }
  let parsed: ReturnType<typeof parseJsonArrayText>;
  try {
    // the array is one level more: each element may nest as deep as a body of its own
    parsed = parseJsonArrayText(text, MAX_JSON_DEPTH + 1);
  } catch (error) {
    if (error instanceof JsonTooDeepError) throw new BadRequestException(`an element of the request body nests deeper than ${MAX_JSON_DEPTH} levels`);
    throw new BadRequestException('request body is not valid JSON');
  }
  const { value, elements } = parsed;
  if (!Array.isArray(value) || elements === undefined || value.length === 0) throw new BadRequestException(nonEmpty);
  if (value.length > limits.maxItems)
    throw new PayloadTooLargeException(`request body holds ${value.length} ${limits.noun} objects; at most ${limits.maxItems} are taken at once`);
  // no element can be over the limit when the whole text is not
  const measure = Buffer.byteLength(text) > limits.maxItemBytes;
  return value.map((item: unknown, index) => {
    const element = elements[index];
    if (measure && Buffer.byteLength(element.text) > limits.maxItemBytes) {
      return new ItemRefusal(413, `${limits.noun} is larger than ${limits.maxItemBytes} bytes`);
    }
    if (typeof item !== 'object' || item === null || Array.isArray(item) || element.members === undefined) {
      return new ItemRefusal(400, `each element must be a JSON object (a ${limits.noun})`);
    }
    try {
      return toDto(type, item as Record<string, unknown>, element.members);
    } catch (error) {
      if (error instanceof BadRequestException) return new ItemRefusal(400, error.message);
      throw error;
    }
  });
}
