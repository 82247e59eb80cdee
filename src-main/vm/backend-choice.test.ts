import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { userNamespaceCheck } from '../world/doctor.js';
import { chooseBackend, readBackendSettings, saveBackendSettings, vmOffer } from './backend-choice.js';

const works = () => ({ ok: true, detail: 'works' });
const fails = () => ({ ok: false, detail: 'unshare: unshare failed: Operation not permitted' });
const never = () => {
  throw new Error('the probe must not run');
};

describe('chooseBackend', () => {
  it('--vm and --native win over everything', () => {
    expect(
      chooseBackend({ argv: ['--vm'], platform: 'linux', settings: { backend: 'native' }, nativeWorks: never }),
    ).toMatchObject({ backend: 'vm' });
    expect(
      chooseBackend({ argv: ['--native'], platform: 'linux', settings: { backend: 'vm' }, nativeWorks: never }),
    ).toMatchObject({ backend: 'native' });
  });

  it('macOS and Windows run the VM without asking or probing', () => {
    for (const platform of ['darwin', 'win32'] as const)
      expect(chooseBackend({ argv: [], platform, settings: { backend: 'native' }, nativeWorks: never })).toMatchObject({
        backend: 'vm',
        why: expect.stringContaining(platform),
      });
  });

  it("on Linux: the saved choice, else the machine's own namespaces when they work, else the offer", () => {
    expect(
      chooseBackend({ argv: [], platform: 'linux', settings: { backend: 'vm' }, nativeWorks: never }),
    ).toMatchObject({ backend: 'vm' });
    expect(chooseBackend({ argv: [], platform: 'linux', settings: {}, nativeWorks: works })).toMatchObject({
      backend: 'native',
    });
    expect(chooseBackend({ argv: [], platform: 'linux', settings: {}, nativeWorks: fails })).toEqual({
      backend: 'ask',
      why: 'unshare: unshare failed: Operation not permitted',
    });
  });

  it("this machine's real probe: user namespaces work here, so a Linux start is native", () => {
    const check = userNamespaceCheck();
    expect(check).toMatchObject({ ok: true });
    expect(
      chooseBackend({ argv: [], platform: 'linux', settings: {}, nativeWorks: () => userNamespaceCheck() }),
    ).toMatchObject({ backend: 'native' });
  });

  it('the offer says why and what the VM changes', () => {
    const o = vmOffer('AppArmor restricts unprivileged user namespaces');
    expect(o.detail).toContain('AppArmor restricts');
    expect(o.detail).toContain('nothing on this machine changes');
    expect(o.buttons).toEqual(['Use the bundled VM', 'Continue without it']);
  });
});

describe('the backend settings file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-settings-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing file is no settings; a saved choice is read back, the file private', () => {
    const file = join(dir, 'a', 'settings.json');
    expect(readBackendSettings(file)).toEqual({});
    saveBackendSettings(file, { backend: 'vm' });
    expect(readBackendSettings(file)).toEqual({ backend: 'vm' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ backend: 'vm' });
  });

  it('a broken or hostile file is reported and ignored, never thrown', () => {
    const file = join(dir, 'bad.json');
    const cases: [string, RegExp][] = [
      ['{"backend": "vm"', /JSON/],
      ['[1,2]', /not a JSON object/],
      ['{"backend": "root; rm -rf /"}', /"backend" is "root; rm -rf \/"/],
      ['null', /not a JSON object/],
    ];
    for (const [text, said] of cases) {
      writeFileSync(file, text);
      const warned: string[] = [];
      expect(readBackendSettings(file, (s) => warned.push(s))).toEqual({});
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatch(said);
      expect(warned[0]).toContain(file);
    }
  });
});
