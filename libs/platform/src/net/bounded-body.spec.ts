import { readBoundedBody } from './bounded-body.js';

describe(readBoundedBody.name, () => {
  it('reads a body within the bound whole', async () => {
    expect(await readBoundedBody(new Response('{"status":"ok"}'), 100)).toEqual({ text: '{"status":"ok"}', complete: true });
  });

  it('stops at the bound, says so, and does not read the rest', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new TextEncoder().encode('x'.repeat(1_000)));
      },
    });
    const body = await readBoundedBody(new Response(endless), 2_500);
    expect(body).toEqual({ text: 'x'.repeat(2_500), complete: false });
    expect(pulled).toBeLessThan(6);
  });

  it('reads an empty answer as empty', async () => {
    expect(await readBoundedBody(new Response(null, { status: 204 }), 10)).toEqual({ text: '', complete: true });
  });
});
