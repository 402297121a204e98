// ESLint flat config: @eslint/js recommended + typescript-eslint recommended (not type-checked,
// for speed). `npm run lint`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', 'bench/data/', 'test/.fixtures/', '.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_`-prefixed names are deliberately unused (ignored parameters, destructuring leftovers).
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_',
      }],
      // `import gdal = require('gdal-async')` is TypeScript's own syntax for an `export =` module
      // under "module": "commonjs"; a bare require() call is still reported.
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
    },
  },
  {
    // Lifecycle tests drop the last reference on purpose (`view = null; gc()`): the assignment is
    // what they test, not a useless one.
    files: ['test/**/*.ts'],
    rules: { 'no-useless-assignment': 'off' },
  },
  {
    // Plain CommonJS scripts (scripts/*.js, dist wrappers): require() is how they load modules.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
