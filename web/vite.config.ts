import { defineConfig } from 'vite';

// The client is served by confer-local under a Content-Security-Policy that allows no inline
// script or style: nothing may be inlined into index.html, and no asset becomes a data: URL.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    sourcemap: false,
    // The Chime SDK is one large chunk, loaded only when a cloud call starts (src/call/engine.ts).
    chunkSizeWarningLimit: 1600,
  },
  server: {
    // `npm run dev` next to a running confer-local: the API and the socket are proxied to it.
    proxy: {
      '/v1': process.env.CONFER_URL ?? 'http://127.0.0.1:8080',
      '/blobs': process.env.CONFER_URL ?? 'http://127.0.0.1:8080',
      '/recordings': process.env.CONFER_URL ?? 'http://127.0.0.1:8080',
      '/ws': { target: (process.env.CONFER_URL ?? 'http://127.0.0.1:8080').replace(/^http/, 'ws'), ws: true },
    },
  },
});
