import { createHash } from 'node:crypto';
import jsonata, { type Expression } from 'jsonata';
import { jsonText, unstorableReason } from '../outbox/json-text.js';
import type { OutboxItem } from '../outbox/outbox.repository.js';
import { type ItemMapping, MalformedItemError } from '../sink/item-sink.js';
import type { ItemShape } from './source-definition.js';

const PRINTABLE_ID = /^[\x21-\x7e]{1,190}$/;

/** Compiles a JSONata expression, naming the field when it does not parse. */
export function compileExpression(field: string, text: string): Expression {
  try {
    return jsonata(text);
  } catch (error) {
    throw new Error(`${field}: not a valid JSONata expression: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Turns a source's raw items into outbox items: the optional JSONata `map`,
 * then the id (the JSONata `id` expression, or a content hash), prefixed with
 * the source name so that two sources never collide in experience-api's
 * idempotency window.
 */
export class ItemMapper implements ItemMapping {
  private readonly map?: Expression;
  private readonly id?: Expression;

  constructor(
    private readonly source: string,
    private readonly shape: ItemShape,
  ) {
    this.map = shape.map ? compileExpression('map', shape.map) : undefined;
    this.id = shape.id ? compileExpression('id', shape.id) : undefined;
  }

  async toItem(raw: unknown): Promise<OutboxItem> {
    // before JSONata or the hash walk it: a 20,000-deep item is refused here, not by a stack overflow
    const tooDeep = unstorableReason(raw, 'the item', { nul: false });
    if (tooDeep) throw new MalformedItemError(tooDeep);
    let data = raw;
    let id: unknown;
    let groups: unknown = this.shape.groups;
    if (this.map) {
      const mapped = await this.evaluate(this.map, raw, 'map');
      if (!mapped || typeof mapped !== 'object' || Array.isArray(mapped) || !('data' in mapped)) {
        throw new MalformedItemError('map must give an object with "data" (and optionally "id" and "groups")');
      }
      ({ data, id, groups = groups } = mapped as { data: unknown; id?: unknown; groups?: unknown });
    }
    if (id === undefined && this.id) id = await this.evaluate(this.id, raw, 'id');
    if (data === undefined) throw new MalformedItemError('the item has no data');
    if (groups !== undefined && (!Array.isArray(groups) || groups.length === 0 || groups.some((g) => typeof g !== 'string'))) {
      throw new MalformedItemError('groups must be a non-empty list of strings');
    }
    const unstorable = unstorableReason(groups, 'groups') ?? unstorableReason(data, 'data');
    if (unstorable) throw new MalformedItemError(unstorable);
    return { id: this.entityId(id, data), groups: groups as string[] | undefined, data };
  }

  private entityId(id: unknown, data: unknown): string {
    // keys sorted, so that equal content always hashes alike
    if (id === undefined) return `${this.source}:${createHash('sha256').update(jsonText(data, true)).digest('hex')}`;
    if (typeof id !== 'string' && typeof id !== 'number') throw new MalformedItemError('the id expression must give a string or a number');
    const text = String(id);
    if (text === '') throw new MalformedItemError('the id expression gave an empty id');
    // experience-api takes printable ASCII ids of up to 256 characters
    const safe = PRINTABLE_ID.test(text) ? text : `sha256-${createHash('sha256').update(text).digest('hex')}`;
    return `${this.source}:${safe}`;
  }

  private async evaluate(expression: Expression, raw: unknown, field: string): Promise<unknown> {
    try {
      return await expression.evaluate(raw);
    } catch (error) {
      throw new MalformedItemError(`${field} failed on this item: ${(error as Error).message}`);
    }
  }
}
