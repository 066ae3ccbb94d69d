import { outcomeOf } from './http-experience-api.client.js';

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
