import { describe, expect, it } from 'vitest';
import { confListFromConfText, confListFromText, parseJson } from './conf.js';
import { ConfigError } from './errors.js';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('parseJson', () => {
  it('points a trailing comma at the comma, by line and column', () => {
    const text = '{\n  "cniVersion": "1.0.0",\n  "name": "x",\n}\n';
    const e = errorOf(() => parseJson(text, '10-x.conflist'));
    expect(e.line).toBe(3);
    expect(e.column).toBe(14);
    expect(e.message).toBe(
      '10-x.conflist:3:14: invalid JSON: trailing comma: JSON allows no comma after the last member',
    );
  });
  it('reports a missing colon at its position', () => {
    const e = errorOf(() => parseJson('{\n"a" 1}', 'f.conf'));
    expect([e.line, e.column]).toEqual([2, 5]);
    expect(e.reason).toBe('invalid JSON: expected ":" after the property name, found "1"');
  });
  it.each([
    ['{"plugins": [ {"type": "bridge"}, ]}', 1, 33, 'trailing comma: JSON allows no comma after the last element'],
    ["{'a': 1}", 1, 2, 'expected a property name in double quotes, found "\'"'],
    ['{"a": 1 "b": 2}', 1, 9, 'expected "," or "}" after a property value, found \'"\''],
    ['{"a": [1, 2}', 1, 12, 'expected "," or "]" after an array element, found "}"'],
    ['{"a": "x\n', 1, 7, 'unterminated string: a string cannot span lines'],
    ['{"a": tru}', 1, 7, 'unexpected "t": expected a value (object, array, string, number, true, false or null)'],
    ['{"a": 1}}', 1, 9, 'unexpected "}" after the end of the JSON value'],
    ['{\n  "a": 1\n', 3, 1, 'unexpected end of input: "}" is missing'],
  ])('locates %j at %i:%i', (text, line, column, reason) => {
    const e = errorOf(() => parseJson(text.replace(/\\n/g, '\n'), 'f.conf'));
    expect([e.line, e.column, e.reason]).toEqual([line, column, `invalid JSON: ${reason}`]);
  });
  it('says an empty file is empty', () => {
    expect(errorOf(() => parseJson('  \n', 'f.conf')).reason).toBe('invalid JSON: the file is empty');
  });
});

describe('confListFromText', () => {
  const good = { cniVersion: '1.0.0', name: 'podnet', plugins: [{ type: 'bridge' }, { type: 'portmap' }] };
  it('parses a list and keeps its bytes for the cache', () => {
    const text = JSON.stringify(good);
    const l = confListFromText(text, 'a.conflist');
    expect(l.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
    expect(l.bytes).toBe(text);
    expect(l.disableCheck).toBe(false);
  });
  it('negotiates cniVersions to the highest it implements', () => {
    const l = confListFromText(
      JSON.stringify({ ...good, cniVersion: undefined, cniVersions: ['0.4.0', '1.0.0', '9.9.9'] }),
    );
    expect(l.cniVersion).toBe('1.0.0');
  });
  it.each([
    [{ ...good, name: undefined }, /has no "name"/],
    [{ ...good, disableCheck: 'yes' }, /error parsing configuration list: invalid value "yes" for disableCheck/],
    [{ ...good, cniVersions: ['1.x'] }, /invalid cniVersions entry 1.x at index 0/],
    [{ ...good, plugins: [] }, /"plugins" list is empty/],
    [{ ...good, plugins: [{ bridge: 'cni0' }] }, /plugin 1 has no "type"/],
    [{ ...good, name: 'bad name' }, /invalid network name/],
    [{ cniVersion: '1.0.0', name: 'x', type: 'bridge' }, /single plugin configuration/],
  ])('rejects %j', (conf, re) => {
    expect(errorOf(() => confListFromText(JSON.stringify(conf, null, 2), 'f.conflist')).message).toMatch(re);
  });
  it('accepts what libcni 1.3 accepts: no cniVersion, an unknown one, "true" as a string, a co-present cniVersion among cniVersions', () => {
    expect(confListFromText(JSON.stringify({ ...good, cniVersion: undefined })).cniVersion).toBe('');
    expect(confListFromText(JSON.stringify({ ...good, cniVersion: '2.0.0' })).cniVersion).toBe('2.0.0');
    const l = confListFromText(JSON.stringify({ ...good, disableCheck: 'True', disableGC: 'false' }));
    expect([l.disableCheck, l.disableGC]).toEqual([true, false]);
    expect(confListFromText(JSON.stringify({ ...good, cniVersion: '1.1.0', cniVersions: ['1.0.0'] })).cniVersion).toBe(
      '1.1.0',
    );
  });
  it('points a field error at the line of the field', () => {
    const e = errorOf(() =>
      confListFromText('{\n  "disableGC": 1,\n  "name": "x",\n  "plugins": [{"type": "bridge"}]\n}', 'f.conflist'),
    );
    expect(e.line).toBe(2);
  });
});

describe('confListFromConfText', () => {
  it('upconverts a .conf to a one-plugin list', () => {
    const l = confListFromConfText(
      JSON.stringify({ cniVersion: '0.4.0', name: 'n', type: 'bridge', bridge: 'br0' }),
      'a.conf',
    );
    expect(l.plugins).toHaveLength(1);
    expect(l.plugins[0]).toMatchObject({ type: 'bridge', bridge: 'br0' });
    expect(l.cniVersion).toBe('0.4.0');
  });
  it('says a conflist in a .conf file needs renaming', () => {
    const e = errorOf(() =>
      confListFromConfText(JSON.stringify({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'bridge' }] }), 'a.conf'),
    );
    expect(e.message).toMatch(/name it \.conflist/);
  });
});
