import { jsonText, MAX_ITEM_DEPTH, unstorableReason } from './json-text.js';

describe(jsonText.name, () => {
  it.each([
    ['an object, key order kept', { b: 1, a: [1, 'two', null, true], c: { d: -1.5e-7 } }],
    ['a string with escapes', 'quote " backslash \\ newline \n NUL \u0000 lone \ud800'],
    ['a list with holes', [undefined, () => 1, 3]],
    ['an object with undefined fields', { a: undefined, b: 2, c: () => 1 }],
    ['a date, through toJSON', { at: new Date('2026-12-01T10:00:00Z') }],
    ['a bare number', 42],
    ['null', null],
    ['empty containers', { a: [], b: {} }],
  ])('writes %s exactly as JSON.stringify does', (_case, value) => {
    expect(jsonText(value)).toBe(JSON.stringify(value));
  });

  it('sorts keys at every level when asked', () => {
    expect(jsonText({ b: { z: 1, y: [{ q: 1, p: 2 }] }, a: 0 }, true)).toBe('{"a":0,"b":{"y":[{"p":2,"q":1}],"z":1}}');
  });

  it('writes a value nested 100,000 deep, where JSON.stringify overflows the stack', () => {
    const text = `${'['.repeat(100_000)}0${']'.repeat(100_000)}`;
    const value = JSON.parse(text) as unknown;

    expect(() => JSON.stringify(value)).toThrow(RangeError);
    expect(jsonText(value)).toBe(text);
  });
});

describe(unstorableReason.name, () => {
  it('passes what Postgres and experience-api take', () => {
    expect(unstorableReason({ a: [1, 'ü', { b: null }], 'c d': 'é' }, 'data')).toBeUndefined();
  });

  it('names the path of a NUL character, and leaves NUL alone when asked to look at depth only', () => {
    expect(unstorableReason({ a: [{ b: 'x\u0000' }] }, 'data')).toBe('data.a[0].b holds a NUL character (\\u0000), which the outbox cannot store');
    expect(unstorableReason({ a: 'x\u0000' }, 'data', { nul: false })).toBeUndefined();
  });

  it(`allows ${MAX_ITEM_DEPTH} levels and refuses one more`, () => {
    const nested = (depth: number) => JSON.parse(`${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}`) as unknown;

    expect(unstorableReason(nested(MAX_ITEM_DEPTH), 'data')).toBeUndefined();
    expect(unstorableReason(nested(MAX_ITEM_DEPTH + 1), 'data')).toBe(`data nests deeper than ${MAX_ITEM_DEPTH} levels`);
  });
});
