// `npm run lint`. TypeScript (apps, libs, test, bench) is linted with typescript-eslint's type-checked
// rules for what they catch that tsc does not: floating and misused promises, unused code, awaits of
// non-promises. Formatting is Prettier's (`npm run format`), so no rule here is about layout.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// the Node globals the plain .mjs/.js files use (the TypeScript files get theirs from @types/node)
const node = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'AbortController',
    'AbortSignal',
    'TextEncoder',
    'TextDecoder',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'clearImmediate',
    'queueMicrotask',
    'structuredClone',
    'fetch',
    'WebSocket',
  ].map((name) => [name, 'readonly']),
);

// names starting with _ are deliberately unused (a parameter kept for its position, a destructured rest)
const unusedVars = ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }];

export default defineConfig(
  { ignores: ['dist/', '**/dist/', 'data/', 'coverage/', 'node_modules/', 'bench/results/', 'inbox/'] },
  js.configs.recommended,
  {
    rules: {
      // `let x;` assigned once after a closure that reads it (a server's handler, a catcher's callback) is deliberate
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': unusedVars,
      // a deliberately fire-and-forget call is written `void call()`; everything else must be awaited or handled
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      // Express and ws take async handlers whose promise they ignore; the handlers catch their own errors
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      // Nest lifecycle hooks and interface implementations are async by contract even when they await nothing
      '@typescript-eslint/require-await': 'off',
      // a promise returned from inside try/catch skips the catch unless awaited
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // ws hands text frames over as Buffers (binaryType "nodebuffer"): RawData's ArrayBuffer member never occurs
      '@typescript-eslint/no-base-to-string': ['error', { ignoredTypeNames: ['Error', 'RegExp', 'URL', 'URLSearchParams', 'ArrayBuffer'] }],
      // JSON.parse, jest matchers and raw SQL rows are `any` by nature; tsc's strict mode already guards the rest
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // jest's expect(mock.method) and passing class methods to Nest/RxJS are the codebase's idiom
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'],
    rules: {
      // specs reach into private state through `as any` and build partial doubles
      '@typescript-eslint/no-explicit-any': 'off',
      // specs write numbers beyond double precision on purpose, to pin down how JSON numbers are parsed
      'no-loss-of-precision': 'off',
      // specs strip ANSI colours (\x1b[…m) from the apps' logs
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: node },
    rules: { 'no-unused-vars': unusedVars },
  },
);
