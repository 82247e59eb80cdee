// Progress per lab on disk (steps done, answers, time spent), written atomically — temp file, fsync,
// rename, fsync of the folder — so a crash leaves the old or the new file, never half of one.
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../fs/atomic-write.js';

export const LabProgress = z.object({
  lab: z.string(),
  /** The step the reader is on (0-based). */
  current: z.number().int().min(0),
  done: z.array(z.number().int().min(0)),
  answers: z.record(z.string(), z.string()),
  timeSpentMs: z.number().min(0),
  updatedAt: z.string(),
});
export type LabProgress = z.infer<typeof LabProgress>;

export function defaultProgressDir(): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'podnet-lab', 'progress');
}

export const freshProgress = (lab: string): LabProgress => ({
  lab,
  current: 0,
  done: [],
  answers: {},
  timeSpentMs: 0,
  updatedAt: new Date(0).toISOString(),
});

export class ProgressStore {
  /** Per lab, what the reader has yet to be told about its progress file (it was kept aside). */
  private readonly notices = new Map<string, string>();

  constructor(readonly dir = process.env.PODNET_PROGRESS_DIR || defaultProgressDir()) {}

  /** The reader saw the notice (the lab opened with it): later reads no longer repeat it. */
  acknowledge(lab: string): void {
    this.notices.delete(lab);
  }

  private file(lab: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(lab)) throw new Error(`invalid lab id "${lab}"`);
    return join(this.dir, `${lab}.json`);
  }

  /**
   * A lab's progress; a corrupt file is kept aside (its path returned as `keptAside`) and progress
   * starts fresh. `error` says so, and keeps saying so on every read until acknowledge(): whoever reads
   * first (the catalogue), the lab's page still tells the reader.
   */
  load(lab: string): { progress: LabProgress; keptAside?: string; error?: string } {
    const f = this.file(lab);
    const told = this.notices.get(lab);
    const notice = told ? { error: told } : {};
    if (!existsSync(f)) return { progress: freshProgress(lab), ...notice };
    let error: string;
    try {
      const r = LabProgress.safeParse(JSON.parse(readFileSync(f, 'utf8')));
      if (r.success && r.data.lab === lab) return { progress: r.data, ...notice };
      error = r.success
        ? `it belongs to lab "${r.data.lab}"`
        : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    } catch (e) {
      error = (e as Error).message;
    }
    const aside = `${f}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(f, aside);
    const message = `progress file ${f} was unreadable (${error}); kept as ${aside}, and the lab starts again at step 1`;
    this.notices.set(lab, message);
    return { progress: freshProgress(lab), keptAside: aside, error: message };
  }

  save(p: LabProgress): void {
    mkdirSync(this.dir, { recursive: true });
    const f = this.file(p.lab);
    writeFileAtomic(f, JSON.stringify({ ...p, updatedAt: new Date().toISOString() }, null, 2) + '\n', { mode: 0o600 });
  }
}
