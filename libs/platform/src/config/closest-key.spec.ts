import { closestKey, editDistance } from './closest-key.js';

describe(editDistance.name, () => {
  it.each([
    ['interval', 'interval', 0],
    ['intervall', 'interval', 1],
    ['setle', 'settle', 1],
    ['mutliplier', 'multiplier', 1],
    ['intreval', 'interval', 1],
    ['attempt', 'attempts', 1],
    ['queue', 'path', 5],
    ['', 'id', 2],
  ])('counts %j to %j as %i edits', (a, b, edits) => {
    expect(editDistance(a, b)).toBe(edits);
    expect(editDistance(b, a)).toBe(edits);
  });
});

describe(closestKey.name, () => {
  const sut = closestKey;
  const KEYS = ['name', 'type', 'interval', 'id', 'map', 'groups', 'max_body', 'max_items', 'timeout'];

  it.each([
    ['intervall', 'interval'],
    ['INTERVAL', 'interval'],
    ['maxBody', 'max_body'],
    ['group', 'groups'],
    ['ids', 'id'],
    ['timeo', 'timeout'],
  ])('reads %j as %j', (typed, meant) => {
    expect(sut(typed, KEYS)).toBe(meant);
  });

  it.each([
    // two edits from "map" and "id", too far for a key that short
    ['tag'],
    // begins two keys: no guess
    ['max_'],
    ['colour'],
  ])('guesses nothing for %j', (typed) => {
    expect(sut(typed, KEYS)).toBeUndefined();
  });
});
