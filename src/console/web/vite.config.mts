import { defineConfig } from 'vite';

const here = new URL('.', import.meta.url).pathname;

// JSX goes through Vite's own transform (tsconfig `jsx: react-jsx`): no React plugin needed,
// because the console has no dev-server hot reload to support.
export default defineConfig({
  root: here,
  base: '/',
  publicDir: false,
  build: {
    // Beside the server code tsc writes to dist/console/, never over it.
    outDir: new URL('../../../dist/console/web/', import.meta.url).pathname,
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 300,
  },
});
