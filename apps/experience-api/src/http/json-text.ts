/** The JSON text of a request body nests deeper than allowed. */
export class JsonTooDeepError extends Error {
  constructor(readonly maxDepth: number) {
    super(`JSON nests deeper than ${maxDepth} levels`);
    this.name = 'JsonTooDeepError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * Parses JSON text that nests at most `maxDepth` levels, and returns with the
 * value the exact text of each member of a top-level object, so that a
 * member can be passed on as it was sent (numbers beyond double precision,
 * `__proto__` keys and all). One pass over the text before `JSON.parse`:
 * a body that nests too deep is refused before anything recursive sees it.
 */
export function parseJsonText(text: string, maxDepth: number): { value: unknown; members: Map<string, string> } {
  const spans: Array<[key: string, start: number, end: number]> = [];
  let depth = 0;
  let topIsObject = false;
  let key: string | undefined;
  let valueStart = -1;
  const endMember = (end: number) => {
    if (key !== undefined && valueStart >= 0) spans.push([key, valueStart, end]);
    key = undefined;
    valueStart = -1;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i++;
      while (i < text.length) {
        const d = text.charCodeAt(i);
        if (d === QUOTE) break;
        i += d === BACKSLASH ? 2 : 1;
      }
      // the first string after `{` or a top-level comma is a key
      if (depth === 1 && topIsObject && key === undefined && valueStart < 0) key = text.slice(start, i + 1);
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === 0) topIsObject = c === OPEN_OBJECT;
      if (++depth > maxDepth) throw new JsonTooDeepError(maxDepth);
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth === 1 && topIsObject) endMember(i);
      depth--;
    } else if (depth === 1 && topIsObject) {
      if (c === COLON && valueStart < 0) valueStart = i + 1;
      else if (c === COMMA) endMember(i);
    }
  }
  // JSON.parse judges the syntax; the spans mean something only once it has accepted the text
  const value: unknown = JSON.parse(text);
  const members = new Map<string, string>();
  for (const [quotedKey, start, end] of spans) members.set(JSON.parse(quotedKey) as string, text.slice(start, end).trim());
  return { value, members };
}

/** One element of a top-level JSON array: its exact text and, when it is an object, the exact text of each of its members. */
export interface JsonArrayElement {
  readonly text: string;
  readonly members: Map<string, string> | undefined;
}

/**
 * The array counterpart of parseJsonText: parses JSON text that nests at most
 * `maxDepth` levels and, when it is a top-level array, returns with the value
 * the exact text of each element and, for an element that is an object, of
 * each of its members. Undefined `elements` when the text is not an array.
 */
export function parseJsonArrayText(text: string, maxDepth: number): { value: unknown; elements: JsonArrayElement[] | undefined } {
  // [element index, key, start, end] of the members of objects that are elements of the top-level array
  const spans: Array<[element: number, key: string, start: number, end: number]> = [];
  const bounds: Array<[start: number, end: number]> = [];
  let depth = 0;
  let topIsArray = false;
  let elementIsObject = false;
  let element = 0;
  let elementStart = -1;
  let key: string | undefined;
  let valueStart = -1;
  const endMember = (end: number) => {
    if (key !== undefined && valueStart >= 0) spans.push([element, key, valueStart, end]);
    key = undefined;
    valueStart = -1;
  };
  const endElement = (end: number) => {
    if (text.slice(elementStart, end).trim() !== '') bounds.push([elementStart, end]);
    element++;
    elementStart = end + 1;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i++;
      while (i < text.length) {
        const d = text.charCodeAt(i);
        if (d === QUOTE) break;
        i += d === BACKSLASH ? 2 : 1;
      }
      if (depth === 2 && topIsArray && elementIsObject && key === undefined && valueStart < 0) key = text.slice(start, i + 1);
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === 0) {
        topIsArray = c === OPEN_ARRAY;
        elementStart = i + 1;
      } else if (depth === 1) elementIsObject = c === OPEN_OBJECT;
      if (++depth > maxDepth) throw new JsonTooDeepError(maxDepth);
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth === 2 && topIsArray && elementIsObject) endMember(i);
      if (depth === 1 && topIsArray) endElement(i);
      depth--;
    } else if (depth === 2 && topIsArray && elementIsObject) {
      if (c === COLON && valueStart < 0) valueStart = i + 1;
      else if (c === COMMA) endMember(i);
    } else if (depth === 1 && topIsArray && c === COMMA) {
      endElement(i);
      elementIsObject = false;
    }
  }
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) return { value, elements: undefined };
  const elements: JsonArrayElement[] = bounds.map(([start, end]) => ({ text: text.slice(start, end).trim(), members: undefined }));
  for (const [index, quotedKey, start, end] of spans) {
    const at = elements[index];
    const members = at.members ?? new Map<string, string>();
    members.set(JSON.parse(quotedKey) as string, text.slice(start, end).trim());
    elements[index] = { text: at.text, members };
  }
  // an element that is an object without members (`{}`) still has a map
  value.forEach((item, index) => {
    if (typeof item === 'object' && item !== null && !Array.isArray(item) && elements[index].members === undefined)
      elements[index] = { text: elements[index].text, members: new Map() };
  });
  return { value, elements };
}
