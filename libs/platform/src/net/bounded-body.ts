/** An HTTP answer's body as far as it was read. */
export interface BoundedBody {
  /** The first `maxBytes` bytes at most, as UTF-8 text. */
  readonly text: string;
  /** False when the body was longer than `maxBytes`: the rest was not read. */
  readonly complete: boolean;
}

/**
 * Reads a fetch answer's body up to `maxBytes` and cancels the rest, so that
 * an answer from outside (a webhook, system-api) never fills memory.
 */
export async function readBoundedBody(response: Response, maxBytes: number): Promise<BoundedBody> {
  if (!response.body) return { text: '', complete: true };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return { text: Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8'), complete: false };
    }
  }
  return { text: Buffer.concat(chunks).toString('utf8'), complete: true };
}
