/** Deepest nesting an item may have; a deeper one is set aside before anything recurses over it (JSON.stringify, Postgres, experience-api). */
export const MAX_ITEM_DEPTH = 256;

type Work = { readonly text: string } | { readonly value: unknown };

function prepare(value: unknown, key: string): unknown {
  const toJSON = (value as { toJSON?: unknown } | null)?.toJSON;
  return typeof toJSON === 'function' ? toJSON.call(value, key) : value;
}

function serialisable(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

/**
 * The JSON text of a value, as `JSON.stringify` writes it (`toJSON` honoured,
 * undefined left out of objects and `null` in arrays), but with a loop instead
 * of recursion: an upstream item nested 20,000 deep costs memory, not a stack
 * overflow. `sortKeys` orders object keys, so that equal content reads alike.
 */
export function jsonText(root: unknown, sortKeys = false): string {
  const out: string[] = [];
  const work: Work[] = [{ value: prepare(root, '') }];
  while (work.length > 0) {
    const next = work.pop()!;
    if ('text' in next) {
      out.push(next.text);
      continue;
    }
    const { value } = next;
    const parts: Work[] = [];
    if (Array.isArray(value)) {
      parts.push({ text: '[' });
      value.forEach((item, index) => {
        const child = prepare(item, String(index));
        if (index > 0) parts.push({ text: ',' });
        parts.push(serialisable(child) ? { value: child } : { text: 'null' });
      });
      parts.push({ text: ']' });
    } else if (value !== null && typeof value === 'object') {
      const keys = Object.keys(value);
      if (sortKeys) keys.sort();
      parts.push({ text: '{' });
      for (const key of keys) {
        const child = prepare((value as Record<string, unknown>)[key], key);
        if (!serialisable(child)) continue;
        parts.push({ text: `${parts.length > 1 ? ',' : ''}${JSON.stringify(key)}:` }, { value: child });
      }
      parts.push({ text: '}' });
    } else {
      out.push(serialisable(value) ? (JSON.stringify(value) ?? 'null') : 'null');
      continue;
    }
    for (let i = parts.length - 1; i >= 0; i--) work.push(parts[i]);
  }
  return out.join('');
}

/**
 * Why a value cannot go into the outbox, or undefined when it can: nested
 * deeper than `maxDepth`, or a NUL character in a string or a key (Postgres
 * text and jsonb refuse it, and altering the item would deliver something the
 * upstream never sent). Walks with a loop, never recursion.
 */
export function unstorableReason(root: unknown, where: string, options: { nul: boolean; maxDepth?: number } = { nul: true }): string | undefined {
  const maxDepth = options.maxDepth ?? MAX_ITEM_DEPTH;
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value: root, depth: 0, path: where }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (options.nul && value.includes('\u0000')) return `${path} holds a NUL character (\\u0000), which the outbox cannot store`;
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= maxDepth) return `${where} nests deeper than ${maxDepth} levels`;
    if (Array.isArray(value)) {
      value.forEach((item, index) => stack.push({ value: item, depth: depth + 1, path: `${path}[${index}]` }));
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (options.nul && key.includes('\u0000')) return `a key in ${path} holds a NUL character (\\u0000), which the outbox cannot store`;
      stack.push({ value: item, depth: depth + 1, path: `${path}.${key}` });
    }
  }
  return undefined;
}
