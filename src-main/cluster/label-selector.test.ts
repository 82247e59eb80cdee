import { describe, expect, it } from 'vitest';
import { labelsMatch, LabelSelectorError, parseLabelSelector } from './label-selector.js';

const sel = (s: string, labels: Record<string, string>) => labelsMatch(labels, parseLabelSelector(s));

describe('label selectors (labels.Parse)', () => {
  it('matches =, ==, !=, in, notin, exists, !exists, comma-joined', () => {
    const l = { app: 'web', tier: 'front' };
    expect(sel('app=web', l)).toBe(true);
    expect(sel('app==web', l)).toBe(true);
    expect(sel('app!=web', l)).toBe(false);
    expect(sel('app!=db', l)).toBe(true);
    expect(sel('missing!=x', l)).toBe(true);
    expect(sel('app in (db, web)', l)).toBe(true);
    expect(sel('app notin (db,web)', l)).toBe(false);
    expect(sel('missing notin (x)', l)).toBe(true);
    expect(sel('app', l)).toBe(true);
    expect(sel('!app', l)).toBe(false);
    expect(sel('!missing', l)).toBe(true);
    expect(sel('app=web,tier in (front),!missing', l)).toBe(true);
    expect(sel('app=web,tier=back', l)).toBe(false);
    expect(sel('kubernetes.io/service-name=web', { 'kubernetes.io/service-name': 'web' })).toBe(true);
    expect(sel('', l)).toBe(true);
  });

  it('refuses malformed selectors with the reason', () => {
    expect(() => parseLabelSelector('app=(x')).toThrow(LabelSelectorError);
    expect(() => parseLabelSelector('app=(x')).toThrow(/invalid label value "\(x"/);
    expect(() => parseLabelSelector('a b c')).toThrow(/unable to parse requirement/);
    expect(() => parseLabelSelector('app=web,')).toThrow(/empty term/);
  });
});
