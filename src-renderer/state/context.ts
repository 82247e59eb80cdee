// React's access to the one Lab (and its store): components read slices, and call the Lab's methods.
import { createContext, useContext } from 'react';
import type { Lab } from './lab.ts';
import { useStore, type AppState } from './store.ts';

export const LabContext = createContext<Lab | null>(null);

export function useLab(): Lab {
  const lab = useContext(LabContext);
  if (!lab) throw new Error('useLab outside <LabContext.Provider>');
  return lab;
}

/** A slice of the state; `select` must return something stable (a field, not a new object). */
export function useAppState<T>(select: (s: AppState) => T): T {
  return useStore(useLab().store, select);
}
