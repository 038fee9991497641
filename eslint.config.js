import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.build/', 'coverage/', 'bench/.data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The library rooms serve a CLI too: only src/action/ may speak to the runner.
    files: ['src/oci/**', 'src/archive/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@actions/*', '../action/*'] }],
    },
  },
)
