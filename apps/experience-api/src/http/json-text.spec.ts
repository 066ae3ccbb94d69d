import { JsonTooDeepError, parseJsonArrayText, parseJsonText } from './json-text.js';

describe(parseJsonText.name, () => {
  it('returns the value and the exact text of each top-level member', () => {
    const sut = parseJsonText('{ "id" : "a,b}" , "data": {"n": 12345678901234567890, "s": "x\\"}"}, "z":[1,[2]] }', 64);

    expect(sut.value).toEqual({ id: 'a,b}', data: { n: 12345678901234567890, s: 'x"}' }, z: [1, [2]] });
    expect([...sut.members]).toEqual([
      ['id', '"a,b}"'],
      ['data', '{"n": 12345678901234567890, "s": "x\\"}"}'],
      ['z', '[1,[2]]'],
    ]);
  });

  it('reads escaped keys as JSON does, and the last of repeated keys wins', () => {
    const sut = parseJsonText('{"d\\u0061ta": 1, "data": "__proto__", "__proto__": {"a": 1}}', 64);

    expect(sut.members.get('data')).toBe('"__proto__"');
    expect(sut.members.get('__proto__')).toBe('{"a": 1}');
    expect(Object.hasOwn(sut.value as object, '__proto__')).toBe(true);
  });

  it('refuses text nested deeper than the limit before parsing it', () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;

    expect(() => parseJsonText(deep, 64)).toThrow(JsonTooDeepError);
    expect(() => parseJsonText(`{"data":${'['.repeat(63)}${']'.repeat(63)}}`, 64)).not.toThrow();
    expect(() => parseJsonText(`{"data":${'['.repeat(64)}${']'.repeat(64)}}`, 64)).toThrow(JsonTooDeepError);
  });

  it('does not count brackets inside strings', () => {
    expect(parseJsonText(`{"data":"${'['.repeat(500)}"}`, 2).members.get('data')).toBe(`"${'['.repeat(500)}"`);
  });

  it('leaves syntax to JSON.parse', () => {
    expect(() => parseJsonText('{"data": 1,}', 64)).toThrow(SyntaxError);
    expect(() => parseJsonText('{"data": "open', 64)).toThrow(SyntaxError);
  });

  it('gives no members for a top-level array or scalar', () => {
    expect(parseJsonText('[{"a": 1}]', 64).members.size).toBe(0);
    expect(parseJsonText('7', 64).members.size).toBe(0);
  });
});

describe(parseJsonArrayText.name, () => {
  it('returns each element of a top-level array with its exact text and, for an object, the exact text of its members', () => {
    const sut = parseJsonArrayText(' [ {"id": "a,b]", "data": {"n": 12345678901234567890}} , 7, {"data": [1, {"x": "}"}]}, {} ] ', 65);

    expect(sut.value).toEqual([{ id: 'a,b]', data: { n: 12345678901234567890 } }, 7, { data: [1, { x: '}' }] }, {}]);
    expect(sut.elements!.map((element) => element.text)).toEqual([
      '{"id": "a,b]", "data": {"n": 12345678901234567890}}',
      '7',
      '{"data": [1, {"x": "}"}]}',
      '{}',
    ]);
    expect([...sut.elements![0].members!]).toEqual([
      ['id', '"a,b]"'],
      ['data', '{"n": 12345678901234567890}'],
    ]);
    expect(sut.elements![1].members).toBeUndefined();
    expect([...sut.elements![2].members!]).toEqual([['data', '[1, {"x": "}"}]']]);
    expect(sut.elements![3].members!.size).toBe(0);
  });

  it('gives no elements for text that is not an array, and refuses text nested too deep', () => {
    expect(parseJsonArrayText('{"data": 1}', 64).elements).toBeUndefined();
    expect(parseJsonArrayText('[]', 64).elements).toEqual([]);
    expect(() => parseJsonArrayText(`[{"data":${'['.repeat(63)}${']'.repeat(63)}}]`, 65)).not.toThrow();
    expect(() => parseJsonArrayText(`[{"data":${'['.repeat(64)}${']'.repeat(64)}}]`, 65)).toThrow(JsonTooDeepError);
    expect(() => parseJsonArrayText('[{"data": 1},]', 65)).toThrow(SyntaxError);
  });
});
