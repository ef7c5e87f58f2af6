// ESLint 9 flat config: typescript-eslint's recommended rules and the import boundaries between the parts of src/
// (`npm run lint`, run by `npm test` after the typecheck). Formatting is Prettier's (.prettierrc.json,
// `npm run format` on the files you name; the tree has not been reformatted).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const zone = (target, from, message) => ({ target: `./src/${target}`, from: from.map((p) => `./src/${p}`), message });
/** `target` imports nothing of src/ but itself and `allowed` (a part added later is refused too) */
const only = (target, allowed, message) => ({ target: `./src/${target}`, from: './src', except: [target, ...allowed].map((p) => `./${p}`), message });

/**
 * Who may import whom. src/cli is the composition root and may import anything but test doubles; src/common
 * (shared helpers, e.g. config-file checking) imports nothing of the project and everyone may import it.
 */
const BOUNDARIES = [
  zone('api', ['agent', 'cli', 'sim', 'virt'], 'src/api calls the controller (and takes store/rpc types); never the agent, virt, sim or cli.'),
  zone('controller', ['agent', 'api', 'cli', 'sim', 'virt'], 'src/controller may not import src/api, src/cli, the agent, virt or sim (the app is composed in src/cli or src/api).'),
  only('store', ['sqlite'], 'src/store imports nothing of the project but itself (and src/sqlite).'),
  zone('agent', ['api', 'cli', 'controller', 'sim', 'store'], 'src/agent may not import the controller, api, store, cli or sim.'),
  only('virt', ['common'], 'src/virt imports nothing of the project above it.'),
  zone('rpc', ['agent', 'api', 'cli', 'controller', 'sim', 'store'], 'src/rpc (shared by agent and controller) may not import either side.'),
  zone('sim', ['api', 'cli', 'controller', 'store'], 'src/sim builds agents on the fake hypervisor: agent, virt and rpc only.'),
  only('common', [], 'src/common imports nothing of the project.'),
  {
    target: './src',
    from: ['./test', './bench'],
    message: 'test doubles and test helpers are never imported from src/ (they belong in test/support).',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // the code asserts what the checker cannot see (map lookups after has(), rows just written)
      '@typescript-eslint/no-non-null-assertion': 'off',
      // a `let` read by a callback before its one assignment (an event sink set up before the object) stays a let
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'import-x/no-unresolved': 'error',
    },
  },
  {
    // tests and benchmarks read JSON answers as `any`
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // generated from libvirt's headers, with a blanket eslint-disable of its own
    files: ['src/virt/libvirt/constants.ts'],
    linterOptions: { reportUnusedDisableDirectives: 'off' },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'import-x/no-restricted-paths': ['error', { zones: BOUNDARIES }] },
  },
  {
    // the API takes the store's and the RPC protocol's types, never their code
    files: ['src/api/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ regex: '^(\\.\\./)+(store|rpc)(/|$)', allowTypeImports: true, message: 'src/api may import only types from src/store and src/rpc: ask a controller service.' }],
      }],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
