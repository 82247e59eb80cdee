// electron-vite builds the desktop app: main (src-main/app), a sandboxed preload, and the renderer
// (src-renderer). It is filled in with the desktop-app issue; until then the engine and the CLI build
// with tsc (npm run build).
export default {};
