import { resolve } from 'node:path';
import { register } from 'tsconfig-paths';

// Jest's moduleNameMapper does not apply to globalSetup/globalTeardown.
register({ baseUrl: resolve(__dirname, '../..'), paths: { '@girder/*': ['libs/*/src'] } });
