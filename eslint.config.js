// Lint rules for the whole repository. Formatting is Prettier's job (see .prettierrc.json).
// TypeScript under src/, test/ and bench/ is linted with type information (projectService finds the
// nearest tsconfig.json: the root one for src/, src/console/web's for the page, test/ and bench/ their own).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test-artifacts/', '.stups/', 'src/console/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/**/*.ts', 'src/**/*.tsx', 'test/**/*.ts', 'bench/**/*.ts'],
    extends: [tseslint.configs.recommendedTypeCheckedOnly],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // A `default:` branch is an explicit decision about every other value (usage errors, unknown kinds).
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-unnecessary-condition': 'error',
      // Fastify handlers and the service/store interfaces are async by contract even where one
      // implementation has nothing to await; requiring an await there would only add noise.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // afterAll hooks close what beforeAll may not have created (`app?.close()`), which the declared
    // types cannot express; no-unnecessary-condition would push those hooks to crash on setup failure.
    // Tests read untyped JSON answers (`res.json()`) on purpose to assert on the wire shape; the
    // no-unsafe-* family would force a cast on every assertion without checking anything more.
    files: ['**/*.test.ts', '**/*.test.tsx', '**/test-support/**', 'test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // expect(mock.method).toHaveBeenCalled() reads a method without calling it, on purpose.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
