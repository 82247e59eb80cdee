import { useEffect, useState } from 'react';

/** True once `on` has held for `ms` without a break; false again as soon as it does not hold. */
export function useElapsed(on: boolean, ms: number): boolean {
  const [elapsed, setElapsed] = useState(false);
  useEffect(() => {
    setElapsed(false);
    if (!on) return;
    const t = setTimeout(() => setElapsed(true), ms);
    return () => clearTimeout(t);
  }, [on, ms]);
  return on && elapsed;
}
