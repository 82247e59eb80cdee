// Light and dark follow prefers-color-scheme unless overridden; the page (CSS variables keyed on
// data-theme) and every xterm (Lab.applyTheme) follow the resolved one.
import { useEffect } from 'react';
import { useAppState } from '../state/context.ts';
import type { Lab } from '../state/lab.ts';
import { resolvedTheme } from '../state/store.ts';

export function useTheme(lab: Lab): void {
  const override = useAppState((s) => s.themeOverride);
  const system = useAppState((s) => s.systemTheme);
  useEffect(() => {
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => lab.setSystemTheme(mq.matches ? 'dark' : 'light');
    mq.addEventListener('change', onChange);
    return () => mq.removeEventListener('change', onChange);
  }, [lab]);
  useEffect(() => {
    document.documentElement.dataset.theme = resolvedTheme({ themeOverride: override, systemTheme: system });
  }, [override, system]);
}
