// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * Imports every file must avoid. Which library may depend on which (core never imports
 * features, libraries never import apps, no deep imports through relative paths) is checked
 * on resolved files by dependency-cruiser: see .dependency-cruiser.cjs (`npm run lint:deps`).
 */
const RESTRICTED_IMPORTS = {
  patterns: [
    {
      group: ['@girder/*/*', '**/libs/*/src/**'],
      message: 'Import a library through its public barrel: @girder/<lib>.',
    },
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

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'bench/results/**',
      'eslint.config.mjs',
      '.dependency-cruiser.cjs',
    ],
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
      'no-restricted-imports': ['error', RESTRICTED_IMPORTS],
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
);
