// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/fixtures/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    // Type-aware rules: a promise nobody awaits or a switch that forgets a case are exactly the
    // bugs a worker-thread engine and a request pipeline cannot afford.
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Braces wherever a body spans lines (the "goto fail" shape); a guard that fits on one
      // line, such as `if (!x) return;`, stays on one line as prettier prints it.
      curly: ['error', 'multi-line', 'consistent'],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // The engine boundary: only engine files may load the inference runtimes, and only
      // the image intake may load sharp, so the rest of the service stays testable with fakes.
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'onnxruntime-node', message: 'Only service/src/caption/engine/** may import onnxruntime-node.' },
            { name: '@huggingface/transformers', message: 'Only service/src/caption/engine/** may import @huggingface/transformers.' },
            { name: 'sharp', message: 'Only service/src/caption/image/** may import sharp.' },
          ],
        },
      ],
    },
  },
  {
    files: ['service/src/caption/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'sharp', message: 'Only service/src/caption/image/** may import sharp.' }] },
      ],
    },
  },
  {
    // Tests build and inspect images and drive the runtime directly; the boundary is for product code.
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'service/test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['service/src/caption/image/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'onnxruntime-node', message: 'Only engine files may import onnxruntime-node.' },
            { name: '@huggingface/transformers', message: 'Only engine files may import @huggingface/transformers.' },
          ],
        },
      ],
    },
  },
);
