// `npm run lint` (and `npm test`): ESLint's and typescript-eslint's recommended
// rules over every TypeScript and JavaScript file we write. CONTRIBUTING.md
// ("Checks") says why ESLint, and why the few exceptions below.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/', '**/dist/', '**/build/', '**/out/', '**/test-results/', '**/.turbo/',
      // flatc's output: rebuilt by packages/format/scripts/generate.sh, never edited.
      'packages/format/src/generated/',
      // AssemblyScript, not TypeScript: decorators on functions (@inline) and its
      // own types (i32, usize) do not parse as TS. asc type-checks it when it builds.
      'packages/runtime-wasm/assembly/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // Regexes in tests mirror the text they match, indentation included (/^examples?:\n  hnet /m):
      // literal spaces read like the output; ' {2}' does not.
      'no-regex-spaces': 'off',
      // Control characters in regexes are deliberate here: terminal escapes (the progress bar's
      // \x1b[2K) and the escaping of untrusted names before they reach a terminal.
      'no-control-regex': 'off',
      // `const { [key]: _dropped, ...rest } = obj` is how the code leaves one key out of a copy, and
      // a parameter named with a leading _ is unused on purpose (a no-op callback's documented argument).
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_' }],
    },
  },
  {
    // Node everywhere (tests, scripts, bench, the server); the page's own modules run in a browser.
    languageOptions: { globals: globals.node },
  },
  {
    files: ['web/src/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
);
