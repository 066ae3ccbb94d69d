import { bulkOutcomesOf, outcomeOf } from './http-experience-api.client.js';

describe(outcomeOf.name, () => {
  const body = (error: string, message: string) => JSON.stringify({ error, message });

  it.each([200, 202])('counts %i as accepted', (status) => {
    expect(outcomeOf(status, '')).toEqual({ kind: 'accepted' });
  });

  it.each([400, 401, 409, 413, 415, 422])("makes %i final for the item, with the status and the answer's message", (status) => {
    expect(outcomeOf(status, body('invalid_request', 'data is required'))).toEqual({
      kind: 'rejected',
      reason: `HTTP ${status} invalid_request: data is required`,
    });
  });

  it.each([408, 429, 502, 503, 504])('keeps retrying %i: experience-api is busy or away, not refusing the item', (status) => {
    expect(outcomeOf(status, '').kind).toBe('unavailable');
  });

  it.each([403, 404])('keeps retrying %i: it says the deployment is wrong (allow list, URL), the same for every item', (status) => {
    expect(outcomeOf(status, body('forbidden', 'not allowed')).kind).toBe('unavailable');
  });

  it.each([500, 501, 505, 507])('gives %i a bounded retry: experience-api answered, and failed on this item', (status) => {
    expect(outcomeOf(status, body('internal_error', 'boom'))).toEqual({ kind: 'server_error', reason: `HTTP ${status} internal_error: boom` });
  });

  it('quotes the start of an answer that is not JSON', () => {
    expect(outcomeOf(500, `<html>${'x'.repeat(1_000)}`)).toEqual({ kind: 'server_error', reason: `HTTP 500: <html>${'x'.repeat(294)}` });
  });
});

describe(bulkOutcomesOf.name, () => {
  it('reads one outcome per result of a 200, in order: published and duplicates accepted, refusals and failures by their status', () => {
    const text = JSON.stringify({
      results: [
        { id: 'a', seq: 1 },
        { id: 'b', seq: 1, duplicate: true },
        { error: 'bad_request', message: 'groups must not be empty', status: 400 },
        { error: 'payload_too_large', message: 'entity is larger than 1048576 bytes', status: 413 },
        { error: 'internal_server_error', message: 'internal error', status: 500 },
        { error: 'service_unavailable', message: 'not published', status: 503 },
      ],
    });
    expect(bulkOutcomesOf(200, text, 6)).toEqual([
      { kind: 'accepted' },
      { kind: 'accepted' },
      { kind: 'rejected', reason: 'HTTP 400 bad_request: groups must not be empty' },
      { kind: 'rejected', reason: 'HTTP 413 payload_too_large: entity is larger than 1048576 bytes' },
      { kind: 'server_error', reason: 'HTTP 500 internal_server_error: internal error' },
      { kind: 'unavailable', reason: 'HTTP 503 service_unavailable: not published' },
    ]);
  });

  it.each([408, 429, 502, 503, 504, 403])('answers %i as one outcome for the whole request: retry it', (status) => {
    expect(bulkOutcomesOf(status, '', 3)).toEqual([expect.objectContaining({ kind: 'unavailable' })]);
  });

  it.each([404, 405, 400, 413, 500])('hands %i back to be offered item by item, so that each item gets its own answer', (status) => {
    expect(bulkOutcomesOf(status, '{"error":"x","message":"y"}', 3)).toBeUndefined();
  });

  it('hands back a 200 whose results do not match the request', () => {
    expect(bulkOutcomesOf(200, JSON.stringify({ results: [{ seq: 1 }] }), 2)).toBeUndefined();
    expect(bulkOutcomesOf(200, 'not json', 1)).toBeUndefined();
  });
});
