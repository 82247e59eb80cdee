// The editor's commands for the palette (actions.ts): the mounted editor fills these in; the palette
// entries are enabled only while it is mounted.
export const editorCommands: { save?: () => void; newFile?: () => void; runAdd?: () => void } = {};
