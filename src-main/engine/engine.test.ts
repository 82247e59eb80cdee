import { describe, expect, it } from 'vitest';
import { requests, type Method } from '../api/contract.js';
import { createEngine } from './engine.js';
import { composeApi } from './compose-api.js';

describe('composeApi', () => {
  it('routes each method to its one owner', async () => {
    const a = {
      async 'world.status'() {
        return 'a';
      },
    };
    const b = {
      async 'pod.list'() {
        return 'b';
      },
    };
    const api = composeApi([a, b], ['world.status', 'pod.list']);
    expect(await api['world.status']({})).toBe('a');
    expect(await api['pod.list']({})).toBe('b');
  });
  it('refuses a method with no owner or with two', () => {
    const a = {
      async 'world.status'() {
        return 1;
      },
    };
    expect(() => composeApi([a], ['world.status', 'pod.list'])).toThrow(
      'contract method pod.list has 0 implementations (needs exactly one)',
    );
    expect(() => composeApi([a, a], ['world.status'])).toThrow('contract method world.status has 2 implementations');
  });
  it('the engine implements every method of the contract', () => {
    const engine = createEngine({
      terminals: () => {
        throw new Error('not used');
      },
    });
    for (const m of Object.keys(requests) as Method[]) expect(typeof engine.api[m], m).toBe('function');
  });
});
