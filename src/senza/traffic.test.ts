import { describe, expect, it } from 'vitest';
import { calculateWeights, FULL_PERCENTAGE } from './traffic.js';

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const obj = (m: Map<string, number>) => Object.fromEntries(m);

describe('traffic weight arithmetic (weights are percent × 2)', () => {
  it('gives the first version 100% whatever is asked (the only version takes all traffic)', () => {
    const r = calculateWeights(new Map([['app-v1', 0]]), 'app-v1', 50, ['app-v1']);
    expect(obj(r.weights)).toEqual({ 'app-v1': 200 });
    expect(r.compensations.get('app-v1')).toBe(100);
  });

  it('0/100: switching everything to the new version disables the old one', () => {
    const r = calculateWeights(
      new Map([
        ['app-v1', 200],
        ['app-v2', 0],
      ]),
      'app-v2',
      100,
      ['app-v1', 'app-v2'],
    );
    expect(obj(r.weights)).toEqual({ 'app-v1': 0, 'app-v2': 200 });
    expect(obj(r.deltas)).toEqual({ 'app-v1': -200, 'app-v2': 200 });
  });

  it('100/0: taking all traffic away from the new version gives it back to the old one', () => {
    const r = calculateWeights(
      new Map([
        ['app-v1', 100],
        ['app-v2', 100],
      ]),
      'app-v2',
      0,
      ['app-v1', 'app-v2'],
    );
    expect(obj(r.weights)).toEqual({ 'app-v1': 200, 'app-v2': 0 });
  });

  it('removing the last version with traffic sets every record to 0', () => {
    const r = calculateWeights(
      new Map([
        ['app-v1', 200],
        ['app-v2', 0],
      ]),
      'app-v1',
      0,
      ['app-v1', 'app-v2'],
    );
    expect(obj(r.weights)).toEqual({ 'app-v1': 0, 'app-v2': 0 });
  });

  it('three versions: the rest is spread evenly and rounding compensated on the newest other version', () => {
    const known = new Map([
      ['app-v1', 100],
      ['app-v2', 100],
      ['app-v3', 0],
    ]);
    const r = calculateWeights(known, 'app-v3', 33, ['app-v1', 'app-v2', 'app-v3']);
    expect(sum(r.weights)).toBe(FULL_PERCENTAGE);
    expect(r.weights.get('app-v3')).toBe(66);
    expect(obj(r.weights)).toEqual({ 'app-v1': 67, 'app-v2': 67, 'app-v3': 66 });
    const odd = calculateWeights(known, 'app-v3', 33.5, ['app-v1', 'app-v2', 'app-v3']);
    expect(obj(odd.weights)).toEqual({ 'app-v1': 67, 'app-v2': 66, 'app-v3': 67 });
    expect(odd.compensations.get('app-v2')).toBe(-1);
  });

  it('versions without traffic stay at 0, versions with traffic never drop below the minimum', () => {
    const known = new Map([
      ['app-v1', 0],
      ['app-v2', 2],
      ['app-v3', 198],
      ['app-v4', 0],
    ]);
    const r = calculateWeights(known, 'app-v4', 99.5, ['app-v1', 'app-v2', 'app-v3', 'app-v4']);
    expect(r.weights.get('app-v1')).toBe(0);
    expect(r.weights.get('app-v2')).toBeGreaterThanOrEqual(1);
    expect(sum(r.weights)).toBe(FULL_PERCENTAGE);
  });

  it('adjusts the requested percentage when all others are at the minimum', () => {
    const known = new Map([
      ['app-v1', 1],
      ['app-v2', 1],
      ['app-v3', 198],
    ]);
    const r = calculateWeights(known, 'app-v3', 100 - 0.5, ['app-v1', 'app-v2', 'app-v3']);
    expect(sum(r.weights)).toBe(FULL_PERCENTAGE);
    expect(r.weights.get('app-v1')).toBe(1);
    expect(r.weights.get('app-v2')).toBe(1);
    expect(r.warning).toBe(
      'Changing given percentage from 99.5 to 99 because all other versions are already getting the possible minimum traffic',
    );
  });

  it('always sums to 100% for any percentage across three versions with traffic', () => {
    const order = ['a-v1', 'a-v2', 'a-v3'];
    for (let p = 0; p <= 100; p += 0.5) {
      const r = calculateWeights(
        new Map([
          ['a-v1', 60],
          ['a-v2', 80],
          ['a-v3', 60],
        ]),
        'a-v2',
        p,
        order,
      );
      expect(sum(r.weights)).toBe(FULL_PERCENTAGE);
    }
  });

  it('rejects percentages outside 0..100', () => {
    expect(() => calculateWeights(new Map(), 'x', 101, [])).toThrow(RangeError);
  });
});
