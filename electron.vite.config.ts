// electron-vite builds the desktop app's three bundles: main (src-main/app/main.ts), the sandboxed
// preload (one CommonJS file, only "electron" external), and the renderer (src-renderer). The browser
// host serves the same renderer bundle (out/renderer).
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';

export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: {
      outDir: 'out/main',
      rollupOptions: { input: { main: resolve(__dirname, 'src-main/app/main.ts') } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { preload: resolve(__dirname, 'src-main/app/preload.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    plugins: [react()],
    // Monaco's editor features are imported file by file (src-renderer/editor/monaco-features.ts);
    // its workers are ES modules bundled beside the app (no CDN, no blob: needed)
    resolve: {
      alias: [{ find: /^monaco-esm\//, replacement: `${resolve(__dirname, 'node_modules/monaco-editor/esm')}/` }],
    },
    worker: { format: 'es' },
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      rollupOptions: { input: resolve(__dirname, 'src-renderer/index.html') },
    },
  },
});
