// The doctor's lab tools: a missing one is a warning with its fix, never a reason the world cannot start.
import { describe, expect, it } from 'vitest';
import { doctorFix, formatDoctor, labToolChecks, type Check } from './doctor.js';

describe('lab tools (tcpdump, fakeroot, dnsmasq)', () => {
  it('reports a missing one as a warning with the package to install, not as a problem', () => {
    const ok: Check = { name: 'user namespaces', ok: true, detail: 'works' };
    const checks = [ok, ...labToolChecks((cmd) => (cmd === 'fakeroot' ? '/usr/bin/fakeroot' : undefined))];
    expect(checks.map((c) => [c.name, c.ok, c.warn ?? false])).toEqual([
      ['user namespaces', true, false],
      ['tcpdump', false, true],
      ['fakeroot', true, false],
      ['dnsmasq', false, true],
    ]);
    const text = formatDoctor(checks);
    expect(text).toMatch(
      /^! tcpdump: not installed \(lab 10 captures VXLAN on the underlay\)\n {4}fix: sudo apt-get install tcpdump /m,
    );
    expect(text).toMatch(/^! dnsmasq: not installed \(lab 13 .*\)\n {4}fix: sudo apt-get install dnsmasq /m);
    expect(text).toMatch(/^✓ fakeroot: \/usr\/bin\/fakeroot$/m);
    expect(text).toMatch(/Everything a lab world needs is here\.\n2 tools some labs use are missing \(marked !\)/);
    // what is shown when a world fails to start names only what stops it
    expect(doctorFix(checks)).toBeUndefined();
    expect(doctorFix([...checks, { name: 'busybox', ok: false, detail: 'not installed', fix: 'x' }])).toBe(
      'busybox: not installed\n  fix: x',
    );
  });
});
