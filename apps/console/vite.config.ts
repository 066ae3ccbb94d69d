// The operator console: a React page built by Vite into dist/console, which experience-api serves
// at /console (apps/experience-api/src/console/serve-console.ts). `npm run build` runs this.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/console/',
  // the SDK from its TypeScript source, as the tests use it: the console's test consumer is its browser path
  resolve: { alias: { '@push-gateway/client': here('../../packages/client/src/index.ts') } },
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: here('../../dist/console'),
    emptyOutDir: true,
    // no inline script or style may run under the console's Content-Security-Policy
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
  // `npx vite --config apps/console/vite.config.ts` serves the page with reloads; the admin API stays on experience-api
  server: {
    proxy: {
      '/admin': 'http://127.0.0.1:3000',
      '/entity': 'http://127.0.0.1:3000',
      '/consumers': 'http://127.0.0.1:3000',
      '/ws': { target: 'ws://127.0.0.1:3000', ws: true },
    },
  },
});
