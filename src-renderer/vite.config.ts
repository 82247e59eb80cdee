// Builds the renderer alone (the same bundle electron-vite's renderer section makes), for when main
// or preload cannot build yet, and for the browser host: `npx vite build --config src-renderer/vite.config.ts`.
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = import.meta.dirname;

export default defineConfig({
  root: here,
  // relative asset URLs: Electron loads the page from file://, the browser host from "/"
  base: './',
  plugins: [react()],
  build: {
    outDir: resolve(here, '../out/renderer'),
    emptyOutDir: true,
    // one bundle read from disk or loopback: splitting it would buy nothing
    chunkSizeWarningLimit: 1500,
    rollupOptions: { input: resolve(here, 'index.html') },
  },
});
