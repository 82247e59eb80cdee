// ESLint: typescript-eslint's type-aware recommended rules for all the code, react-hooks for the renderer.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The layers of src-main, bottom to top (docs/architecture.md draws them): a folder may import only
// the folders listed for it. The hosts (app, web, cli) stand at the top and may import anything.
const layers = {
  api: [],
  cni: ['api'],
  world: ['api', 'cni'],
  fs: ['api', 'world'],
  runtime: ['api', 'cni', 'fs', 'world'],
  cluster: ['api', 'cni', 'fs', 'runtime', 'world'],
  session: ['api', 'cni', 'fs', 'runtime', 'world'],
  netview: ['api', 'cni', 'fs', 'runtime', 'session', 'world'],
  terminal: ['api', 'world'],
  timeline: ['api', 'cni', 'fs', 'runtime', 'session', 'world'],
  config: ['api', 'cni', 'fs', 'netview', 'runtime', 'session', 'world'],
  labs: ['api', 'cni', 'fs', 'netview', 'runtime', 'session', 'world'],
  path: ['api', 'cluster', 'cni', 'runtime', 'world'],
  engine: [
    'api',
    'cluster',
    'cni',
    'config',
    'fs',
    'labs',
    'netview',
    'path',
    'runtime',
    'session',
    'terminal',
    'timeline',
    'world',
  ],
  // the workshop server (issue 19): a host of many engines, on the browser host's routing; its container
  // image starts from the VM's Debian root (vm/image.ts)
  workshop: ['api', 'engine', 'labs', 'terminal', 'vm', 'web', 'world'],
  // the bundled VM (docs/vm.md): its image and QEMU; the hosts (web, app, cli) start it
  vm: ['api', 'fs', 'world'],
};
const layerRules = Object.entries(layers).map(([folder, allowed]) => ({
  files: [`src-main/${folder}/**/*.ts`],
  ignores: ['**/*.test.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: Object.keys({ ...layers, app: 0, web: 0, cli: 0 })
          .filter((f) => f !== folder && !allowed.includes(f))
          .map((f) => ({
            group: [`../${f}/*`],
            message: `src-main/${folder} may not import ${f}/ (docs/architecture.md)`,
          })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['out/', 'node_modules/', 'labs/', 'resources/', 'test/fixtures/', 'docs/', 'pinned/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // the build's own config files belong to no tsconfig: a default project types them
        projectService: { allowDefaultProject: ['*.config.ts', 'src-renderer/vite.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
  },
  {
    files: ['src-renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    // the two rules of hooks; the plugin's React Compiler rules stay off: the renderer is not compiled by it
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    rules: {
      // contract methods and parts' hooks are async by contract, whether or not they await
      '@typescript-eslint/require-await': 'off',
      // a leading underscore names what is deliberately left unused (a rest sibling, a callback's argument)
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // tests and benchmarks read back JSON the engine and the plugins wrote and assert on it with expect
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  { files: ['**/*.{js,mjs}'], ...tseslint.configs.disableTypeChecked },
  ...layerRules,
);
