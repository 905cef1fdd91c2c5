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
    rules: {
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
