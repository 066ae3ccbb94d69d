/**
 * The `entity` frame, built as text around `data` exactly as the publisher
 * sent it: never parsed into numbers and printed again.
 */
export function entityFrame(id: string, seq: number, groups: readonly string[], dataText: string, publishedAt: Date): Buffer {
  return Buffer.from(
    `{"type":"entity","id":${JSON.stringify(id)},"seq":${seq},"groups":${JSON.stringify(groups)},"data":${dataText},` +
      `"published_at":"${publishedAt.toISOString()}"}`,
  );
}
