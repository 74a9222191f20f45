// Lint rules: typescript-eslint's recommended set, plus the rule that keeps workflow code deterministic-friendly
// (no Node built-ins or heavy libraries imported into workflows/, which the Temporal bundle would reject).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.twinflow/', 'dist/', 'trainer/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly', Response: 'readonly', Request: 'readonly', Headers: 'readonly', structuredClone: 'readonly', performance: 'readonly', queueMicrotask: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'child_process', 'crypto', 'os', 'http', 'https'], message: 'Workflow code must be deterministic: no Node built-ins in workflows/.' },
          { group: ['../activities/*', '../activities/**'], allowTypeImports: true, message: 'Workflows import only the types of activities (import type).' },
          { group: ['../lib/*', '!../lib/schemas', '!../lib/schemas/*'], allowTypeImports: true, message: 'Workflows may import values only from lib/schemas.' },
        ],
      }],
    },
  },
);
