import { getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Environment } from './environment';

const ROOT = join(__dirname, '../../..');

/** Every validated variable, read from the validation rules themselves. */
function variables(): string[] {
  const rules = getMetadataStorage().getTargetValidationMetadatas(Environment, '', true, false);
  return [...new Set(rules.map((rule) => rule.propertyName))].sort();
}

describe('configuration documentation', () => {
  it('finds the variables (guards the reflection this test relies on)', () => {
    expect(variables()).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'API_WORKERS', 'SMTP_URL']),
    );
  });

  it.each(['.env.example', 'docs/configuration.md'])('%s lists every variable', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const missing = variables().filter(
      (name) => !new RegExp(`(^|[\\s\`|])${name}[=\`\\s]`, 'm').test(text),
    );
    expect(missing).toEqual([]);
  });
});
