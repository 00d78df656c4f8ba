import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import {
  Environment,
  PRODUCTION_MIN_ADMIN_PASSWORD_LENGTH,
  PRODUCTION_REQUIRED,
  SHIPPED_SECRETS,
} from './environment';
import { TRUST_PROXY_IN_PRODUCTION } from './trust-proxy';

/**
 * DATABASE_URL unset outside production, after the apps looked for the project's embedded
 * PostgreSQL (`useEmbeddedPostgresIfRunning`): one line saying what to do.
 */
export const DATABASE_URL_MISSING =
  'DATABASE_URL: not set and no embedded PostgreSQL is running for this project: run ' +
  '"npm start" (starts one with both apps), or "npm run db:start" and then this command again, ' +
  'or set DATABASE_URL to your PostgreSQL';

export class InvalidEnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid environment: ${problems.length} variable(s) need fixing (see .env.example):\n` +
        problems.map((problem) => `  - ${problem}`).join('\n'),
    );
    this.name = 'InvalidEnvironmentError';
  }
}

function describe(error: ValidationError): string {
  const messages = Object.values(error.constraints ?? {});
  const shown = messages.length > 0 ? messages.join('; ') : 'is invalid';
  return `${error.property}: ${shown}`;
}

/**
 * Validates raw environment variables against `Environment`, applying development defaults.
 * Unknown variables are ignored (the process environment holds many). Throws one error that
 * names every bad variable, so an operator fixes them all in one go.
 */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const provided = Object.fromEntries(
    Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''),
  );
  const environment = plainToInstance(Environment, provided, {
    enableImplicitConversion: false,
    exposeDefaultValues: true,
  });
  const production = environment.NODE_ENV === 'production';
  // An empty ADMIN_EMAIL or ADMIN_PASSWORD means "seed no admin" (not "use the development
  // one"), and production never seeds the development admin.
  const noAdmin = raw.ADMIN_EMAIL === '' || raw.ADMIN_PASSWORD === '';
  if (noAdmin || (production && provided.ADMIN_EMAIL === undefined)) {
    environment.ADMIN_EMAIL = undefined;
    environment.ADMIN_PASSWORD = undefined;
  }
  const problems = validateSync(environment, { whitelist: false }).map(describe);

  if (!production && provided.DATABASE_URL === undefined) problems.push(DATABASE_URL_MISSING);
  // Unset REDIS_URL means no Redis at all: the cache alone on Redis is not a mode.
  if (provided.CACHE_REDIS_URL !== undefined && provided.REDIS_URL === undefined)
    problems.push('CACHE_REDIS_URL: needs REDIS_URL (without REDIS_URL, Girder uses no Redis)');
  if (production) {
    for (const name of PRODUCTION_REQUIRED) {
      if (provided[name] === undefined) problems.push(`${name}: must be set in production`);
    }
    problems.push(...productionSecretProblems(environment, provided));
    problems.push(...productionProxyProblems(environment));
  }
  if (problems.length > 0) throw new InvalidEnvironmentError(problems.sort());
  return environment;
}

/**
 * Secrets that would let anyone in: values published in this repository, or too short to
 * resist guessing. Production refuses them with one message per variable.
 */
function productionSecretProblems(
  environment: Environment,
  provided: Record<string, unknown>,
): string[] {
  const problems: string[] = [];
  // Its minimum length is a rule of every environment (see Environment).
  if (
    provided.JWT_SECRET !== undefined &&
    SHIPPED_SECRETS.JWT_SECRET.includes(environment.JWT_SECRET)
  ) {
    problems.push(
      'JWT_SECRET: is a value published in this repository; generate your own with ' +
        `node -e "console.log(require('crypto').randomBytes(48).toString('base64url'))"`,
    );
  }
  const password = environment.ADMIN_PASSWORD;
  if (environment.ADMIN_EMAIL !== undefined) {
    if (password === undefined || provided.ADMIN_PASSWORD === undefined) {
      problems.push('ADMIN_PASSWORD: must be set when ADMIN_EMAIL is (or leave ADMIN_EMAIL empty)');
    } else if (SHIPPED_SECRETS.ADMIN_PASSWORD.includes(password)) {
      problems.push('ADMIN_PASSWORD: is a value published in this repository; choose your own');
    } else if (password.length < PRODUCTION_MIN_ADMIN_PASSWORD_LENGTH) {
      problems.push(
        `ADMIN_PASSWORD: must be at least ${PRODUCTION_MIN_ADMIN_PASSWORD_LENGTH} characters in production`,
      );
    }
  }
  return problems;
}

/**
 * `TRUST_PROXY=true` takes the left-most X-Forwarded-For entry, which the client writes: behind
 * an appending proxy anyone picks their own IP and walks past every per-IP rate limit.
 */
function productionProxyProblems(environment: Environment): string[] {
  return environment.TRUST_PROXY === true ? [`TRUST_PROXY: ${TRUST_PROXY_IN_PRODUCTION}`] : [];
}
