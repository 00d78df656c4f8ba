// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** Core libraries: they never import feature libraries (arrows point from features to core). */
const CORE_LIBS = [
  'cache',
  'config',
  'database',
  'errors',
  'health',
  'http',
  'lifecycle',
  'logging',
  'permissions',
  'redis',
];

/** Imports every file must avoid; `extra` adds a pattern for a group of files. */
function restrictedImports(extra) {
  return {
    patterns: [
      {
        group: ['@girder/*/*', '**/libs/*/src/**'],
        message: 'Import a library through its public barrel: @girder/<lib>.',
      },
      ...(extra ? [extra] : []),
    ],
    paths: [
      {
        name: '@nestjs/typeorm',
        importNames: ['InjectRepository', 'InjectEntityManager'],
        message:
          'An injected repository escapes @Transactional(). Extend TransactionalRepository from @girder/database instead.',
      },
    ],
  };
}

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**', 'eslint.config.mjs'],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/require-await': 'off',
      'no-restricted-imports': ['error', restrictedImports()],
    },
  },
  {
    // Tests may use supertest's loosely typed bodies and reach into apps' root modules.
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: CORE_LIBS.map((lib) => `libs/${lib}/src/**/*.ts`),
    rules: {
      'no-restricted-imports': [
        'error',
        restrictedImports({
          group: ['@girder/*', ...CORE_LIBS.map((core) => `!@girder/${core}`)],
          message:
            'Core libraries never import feature libraries: move the dependency into the feature.',
        }),
      ],
    },
  },
);
