import { describe, expect, it } from 'vitest';
import { PathFollowParams } from '../api/contract.js';
import { handle } from './engine-socket.js';

// the engine socket's answer to one request line (the listening socket itself: test/path-in-world.test.ts)
describe('engine socket: one request line → one answer', () => {
  const asked: unknown[] = [];
  const methods = {
    'path.follow': {
      params: PathFollowParams,
      run: (p: PathFollowParams) => {
        asked.push(p);
        if (p.from === 'boom') return Promise.reject(new Error('pod:boom: no pod of that name'));
        return Promise.resolve({ ok: p.from });
      },
    },
  };

  it('runs a valid path.follow with the params as parsed, and says a failure in its own words', async () => {
    expect(await handle('{"method":"path.follow","params":{"from":"a","to":"b","kind":"ping"}}', methods)).toEqual({
      result: { ok: 'a' },
    });
    expect(asked).toEqual([{ from: 'a', to: 'b', kind: 'ping' }]);
    expect(await handle('{"method":"path.follow","params":{"from":"boom","to":"b","kind":"ping"}}', methods)).toEqual({
      error: { code: 'failed', message: 'pod:boom: no pod of that name' },
    });
  });

  it('refuses what is not one known request with valid params, running nothing', async () => {
    asked.length = 0;
    const code = async (line: string) => {
      const a = await handle(line, methods);
      return 'error' in a ? `${a.error.code}: ${a.error.message}` : 'ran';
    };
    expect(await code('not json')).toMatch(/^bad-request: the request is not JSON/);
    expect(await code('"a string"')).toMatch(/^bad-request: the request is not a JSON object/);
    expect(await code('null')).toMatch(/^bad-request: the request is not a JSON object/);
    expect(await code('{"method":"world.stop","params":{}}')).toBe(
      'unknown-method: "world.stop" is not served here: this socket answers path.follow only',
    );
    expect(await code('{"method":"__proto__","params":{}}')).toMatch(/^unknown-method: "__proto__" is not served/);
    expect(await code('{"method":7}')).toMatch(/^unknown-method: the method is not served/);
    expect(await code('{"method":"path.follow","params":{"from":"a","to":"b","kind":"ping"},"id":1}')).toBe(
      'bad-request: unknown field(s) id: send method and params only',
    );
    expect(await code('{"method":"path.follow","params":{"from":"a;sh","to":"b","kind":"ping"}}')).toMatch(
      /^bad-request: invalid params for path\.follow: from: a place/,
    );
    expect(await code('{"method":"path.follow","params":{"from":"a","to":"b","kind":"ping","cmd":"sh"}}')).toMatch(
      /^bad-request: invalid params for path\.follow: .*Unrecognized key.*cmd/,
    );
    expect(await code('{"method":"path.follow","params":{"from":"a","to":"b","kind":"icmp"}}')).toMatch(
      /^bad-request: invalid params for path\.follow: kind/,
    );
    expect(await code('{"method":"path.follow","params":{"from":"a","to":"b","kind":"tcp","port":0}}')).toMatch(
      /^bad-request: invalid params for path\.follow: port: a port is 1 to 65535/,
    );
    expect(asked).toEqual([]);
  });
});
