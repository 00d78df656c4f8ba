import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import { Environment, PRODUCTION_REQUIRED } from './environment';

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
  const problems = validateSync(environment, { whitelist: false }).map(describe);

  if (environment.NODE_ENV === 'production') {
    for (const name of PRODUCTION_REQUIRED) {
      if (provided[name] === undefined) problems.push(`${name}: must be set in production`);
    }
  }
  if (problems.length > 0) throw new InvalidEnvironmentError(problems.sort());
  return environment;
}
