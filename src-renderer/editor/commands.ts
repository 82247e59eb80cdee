// The editor's commands for the palette (actions.ts): the mounted editor fills these in; the palette
// entries are enabled only while it is mounted.
export const editorCommands: {
  save?: () => void;
  newFile?: () => void;
  runAdd?: () => void;
  /** How many files hold unsaved edits (the workspace asks before dropping them). */
  unsaved?: () => number;
  /** Opens a node's file (a lab step's `edit:`); kept in `pendingOpen` until the editor has mounted. */
  openFile?: (node: string, name: string) => void;
} = {};

/** A file a step asked for before the editor had mounted: it opens it once it has. */
export const pendingOpen: { file: { node: string; name: string } | null } = { file: null };
