import { InvalidEnvironmentError, validateEnvironment } from '@girder/config';
import { config as loadDotenv } from 'dotenv';

/**
 * Runs an app's bootstrap and turns a failed start into one readable message and exit 1.
 * The environment is checked before Nest starts, so a bad variable yields a list of every
 * bad variable instead of a framework stack trace.
 */
export function runMain(name: string, bootstrap: () => Promise<unknown>): void {
  // The same precedence as @nestjs/config: real environment variables win over .env.
  loadDotenv({ quiet: true });
  try {
    validateEnvironment(process.env);
  } catch (error) {
    if (!(error instanceof InvalidEnvironmentError)) throw error;
    process.stderr.write(`[${name}] ${error.message}\n`);
    process.exit(1);
  }
  bootstrap().catch((error: unknown) => {
    process.stderr.write(
      `[${name}] failed to start: ${(error as Error)?.stack ?? String(error)}\n`,
    );
    process.exit(1);
  });
}
