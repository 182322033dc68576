// Lint: typescript-eslint's recommended rules on every TypeScript file; builds are not linted.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.bench/**', 'test-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Scripts the in-car screen and the console run in the browser.
  { files: ['ui/**/assets/**/*.js'], languageOptions: { globals: globals.browser, sourceType: 'script' } },
  { files: ['**/*.mjs', 'eslint.config.js'], languageOptions: { globals: globals.node } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
);
