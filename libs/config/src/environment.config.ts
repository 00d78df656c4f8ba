import { registerAs } from '@nestjs/config';
import { validateEnvironment } from './validate-environment';

/**
 * Validated when each app instance is created (not when this file is imported), so tests and
 * cluster workers that change the environment get a configuration that matches it.
 */
export const environmentConfig = registerAs('environment', () => validateEnvironment(process.env));
