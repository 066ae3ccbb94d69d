import { createHash } from 'node:crypto';
import { MalformedItemError } from '../sink/item-sink.js';
import { ItemMapper } from './item-mapper.js';
import type { ItemShape } from './source-definition.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The MalformedItemError that mapping `raw` gives; fails the test if it maps. */
async function malformed(sut: ItemMapper, raw: unknown): Promise<MalformedItemError> {
  try {
    await sut.toItem(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedItemError);
    return error as MalformedItemError;
  }
  throw new Error('the item was mapped');
}

describe(ItemMapper.name, () => {
  const mapper = (shape: ItemShape = {}, source = 'orders') => new ItemMapper(source, shape);

  describe('without a mapping', () => {
    it('forwards the item itself as the data, with the source groups', async () => {
      const sut = mapper({ groups: ['ops', 'sales'] });

      const item = await sut.toItem({ ref: 'o-1', total: 12.5 });

      expect(item).toMatchObject({ groups: ['ops', 'sales'], data: { ref: 'o-1', total: 12.5 } });
    });

    it('leaves groups out when the source names none, so the entity goes to everyone', async () => {
      expect((await mapper().toItem({ a: 1 })).groups).toBeUndefined();
    });

    it('takes data that is not an object, null included', async () => {
      const sut = mapper();

      expect((await sut.toItem(null)).data).toBeNull();
      expect((await sut.toItem('text')).data).toBe('text');
      expect((await sut.toItem([1, 2])).data).toEqual([1, 2]);
    });
  });

  describe('content-hash ids', () => {
    it('hashes the content under the source prefix, the same whatever the key order, nested keys included', async () => {
      const sut = mapper();

      const one = await sut.toItem({ b: 2, a: { y: [1, { q: 1, p: 2 }], x: null } });
      const other = await sut.toItem({ a: { x: null, y: [1, { p: 2, q: 1 }] }, b: 2 });

      expect(one.id).toMatch(/^orders:[0-9a-f]{64}$/);
      expect(other.id).toBe(one.id);
    });

    it('gives different content different ids, array order included', async () => {
      const sut = mapper();
      const ids = await Promise.all(
        [{ a: 1 }, { a: 2 }, { a: '1' }, { a: [1, 2] }, { a: [2, 1] }, { a: 1, b: null }].map(async (raw) => (await sut.toItem(raw)).id),
      );

      expect(new Set(ids).size).toBe(ids.length);
    });

    it('is stable across mapper instances, so a restart finds the same ids', async () => {
      const first = await mapper().toItem({ k: 'v', n: 1 });
      const second = await mapper().toItem({ n: 1, k: 'v' });

      expect(second.id).toBe(first.id);
    });

    it('keeps two sources with the same content apart', async () => {
      const here = await mapper({}, 'here').toItem({ a: 1 });
      const there = await mapper({}, 'there').toItem({ a: 1 });

      expect(here.id.slice('here:'.length)).toBe(there.id.slice('there:'.length));
      expect(here.id).not.toBe(there.id);
    });
  });

  describe('id expressions', () => {
    it('prefixes the id with the source name', async () => {
      const sut = mapper({ id: 'order.ref' });

      expect((await sut.toItem({ order: { ref: 'A-1042' } })).id).toBe('orders:A-1042');
    });

    it('takes a number as an id', async () => {
      expect((await mapper({ id: 'n' }).toItem({ n: 42 })).id).toBe('orders:42');
    });

    it('falls back to the content hash when the expression finds nothing', async () => {
      const sut = mapper({ id: 'missing' });

      const item = await sut.toItem({ a: 1 });

      expect(item.id).toBe((await mapper().toItem({ a: 1 })).id);
    });

    it.each([
      ['a space', 'order 1'],
      ['a tab', 'order\t1'],
      ['a newline', 'order\n1'],
      ['non-ASCII text', 'commande-é'],
      ['a 191-character id', 'x'.repeat(191)],
    ])('hashes an id with %s, stably', async (_case, raw) => {
      const sut = mapper({ id: 'ref' });

      const item = await sut.toItem({ ref: raw });

      expect(item.id).toBe(`orders:sha256-${sha256(raw)}`);
      expect((await sut.toItem({ ref: raw, other: true })).id).toBe(item.id);
    });

    it('keeps a printable id of 190 characters, within experience-api 256-character limit with the longest source name', async () => {
      const longest = 's'.repeat(64);
      const raw = `${'x'.repeat(189)}~`;

      const item = await mapper({ id: 'ref' }, longest).toItem({ ref: raw });

      expect(item.id).toBe(`${longest}:${raw}`);
      expect(item.id.length).toBeLessThanOrEqual(256);
    });

    it.each([
      ['an object', { ref: { a: 1 } }],
      ['a list', { ref: ['a', 'b'] }],
      ['a boolean', { ref: true }],
      ['an empty string', { ref: '' }],
    ])('refuses an id that is %s', async (_case, raw) => {
      await expect(mapper({ id: 'ref' }).toItem(raw)).rejects.toBeInstanceOf(MalformedItemError);
    });
  });

  describe('map expressions', () => {
    const map = '{"id": order.ref, "groups": ["orders", order.region], "data": {"ref": order.ref, "total": order.total}}';

    it('gives id, groups and data from the mapping', async () => {
      const sut = mapper({ map, groups: ['ignored'] });

      const item = await sut.toItem({ order: { ref: 'A-7', region: 'eu', total: 99, secret: 'x' } });

      expect(item).toEqual({ id: 'orders:A-7', groups: ['orders', 'eu'], data: { ref: 'A-7', total: 99 } });
    });

    it('uses the source groups and the id expression when the mapping gives none', async () => {
      const sut = mapper({ map: '{"data": {"v": v}}', id: 'key', groups: ['all'] });

      expect(await sut.toItem({ key: 'k-1', v: 3 })).toEqual({ id: 'orders:k-1', groups: ['all'], data: { v: 3 } });
    });

    it('hashes the mapped data, not the raw item, when there is no id at all', async () => {
      const sut = mapper({ map: '{"data": {"v": v}}' });

      const first = await sut.toItem({ v: 1, noise: 'a' });
      const second = await sut.toItem({ v: 1, noise: 'b' });

      expect(second.id).toBe(first.id);
      expect(first.id).toBe((await mapper().toItem({ v: 1 })).id);
    });

    it('keeps a null data', async () => {
      expect((await mapper({ map: '{"id": "x", "data": null}' }).toItem({})).data).toBeNull();
    });

    it.each([
      ['a string', '"just text"'],
      ['a list', '[{"data": 1}]'],
      ['an object without data', '{"id": ref}'],
      ['an object whose data is missing from the item', '{"id": ref, "data": absent}'],
      ['nothing', 'absent'],
    ])('refuses a mapping result that is %s', async (_case, expression) => {
      const error = await malformed(mapper({ map: expression }), { ref: 'r-1' });

      expect(error.message).toMatch(/map must give an object with "data"/);
    });

    it.each([
      ['empty', '[]'],
      ['not a list', '"orders"'],
      ['a list with a number', '["orders", 7]'],
    ])('refuses groups that are %s', async (_case, groups) => {
      const error = await malformed(mapper({ map: `{"groups": ${groups}, "data": 1}` }), {});

      expect(error.message).toMatch(/groups must be a non-empty list of strings/);
    });

    it('refuses an id from the mapping that is not a string or a number', async () => {
      const error = await malformed(mapper({ map: '{"id": {"a": 1}, "data": 1}' }), {});

      expect(error.message).toMatch(/id expression must give a string or a number/);
    });

    it('turns an expression that fails on this item into a MalformedItemError naming the field', async () => {
      const mapFails = await malformed(mapper({ map: '{"data": $number(v)}' }), { v: 'not a number' });
      const idFails = await malformed(mapper({ id: '$error("no ref")' }), { v: 1 });

      expect(mapFails.message).toMatch(/^map failed on this item: /);
      expect(idFails.message).toBe('id failed on this item: no ref');
    });
  });

  describe('items the outbox cannot hold', () => {
    /** `[[[…0…]]]`, `depth` arrays deep, as JSON.parse gives it from an upstream answer. */
    const nested = (depth: number) => JSON.parse(`${'['.repeat(depth)}0${']'.repeat(depth)}`) as unknown;

    it('refuses an item nested 20,000 deep with a reason, without overflowing the stack, with or without a map', async () => {
      for (const sut of [mapper(), mapper({ map: '{"id": "deep", "data": $}' })]) {
        const error = await malformed(sut, nested(20_000));

        expect(error.message).toBe('the item nests deeper than 256 levels');
      }
    });

    it('hashes an item at the deepest nesting allowed', async () => {
      expect((await mapper().toItem(nested(256))).id).toMatch(/^orders:[0-9a-f]{64}$/);
      expect((await malformed(mapper(), nested(257))).message).toMatch(/nests deeper than 256 levels/);
    });

    it.each([
      ['a data string', { map: '{"id": ref, "data": {"note": "a\u0000b"}}' }, /^data\.note holds a NUL character/],
      ['a data key', { map: '{"id": ref, "data": {"a\u0000": 1}}' }, /^a key in data holds a NUL character/],
      ['a group', { map: '{"id": ref, "groups": ["eu\u0000"], "data": 1}' }, /^groups\[0\] holds a NUL character/],
    ])('refuses a NUL character in %s from the map, rather than alter the item', async (_case, shape, reason) => {
      const error = await malformed(mapper(shape), { ref: 'r-1' });

      expect(error.message).toMatch(reason);
      expect(error.message).toMatch(/which the outbox cannot store/);
    });

    it('refuses a NUL character read from the upstream in the data', async () => {
      expect((await malformed(mapper({ id: 'ref' }), { ref: 'r-1', list: ['ok', 'x\u0000'] })).message).toMatch(/^data\.list\[1\] holds a NUL/);
    });

    it('keeps an id with a NUL character storable: it is not printable, so it becomes its hash', async () => {
      const sut = mapper({ map: '{"id": ref, "data": {"n": n}}' });

      expect((await sut.toItem({ ref: 'a\u0000b', n: 1 })).id).toBe(`orders:sha256-${sha256('a\u0000b')}`);
    });
  });

  it.each([['map'], ['id']] as const)('refuses a %s that is not JSONata when it is built, naming the field', (field) => {
    const build = () => mapper({ [field]: '{"data": ' });

    expect(build).toThrow(new RegExp(`^${field}: not a valid JSONata expression: `));
    expect(build).not.toThrow(MalformedItemError);
  });
});
