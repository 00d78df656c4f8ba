/** Every spelling of a feature name the templates need, derived from its kebab-case plural. */
export interface Names {
  /** `invoice-lines`: lib folder, route, barrel alias, plural file prefix. */
  kebab: string;
  /** `invoice-line`: entity and DTO file prefix. */
  singularKebab: string;
  /** `InvoiceLines`: module, service, repository and controller class prefix. */
  Plural: string;
  /** `InvoiceLine`: entity class, DTO prefix. */
  Singular: string;
  /** `invoiceLines` / `invoiceLine`: variables. */
  plural: string;
  singular: string;
  /** `invoice_lines`: table. */
  table: string;
  /** `invoice line`: prose in docs and messages. */
  words: string;
}

export const NAME_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Folders and project names that are not feature libraries. */
export const RESERVED_NAMES = ['api', 'worker', 'apps', 'libs', 'test', 'src', 'index', 'shared'];

/** English singular of the last word, good enough for table-like names (`--singular` overrides). */
export function singularOf(kebab: string): string {
  const rules: Array<[RegExp, string]> = [
    [/([^aeiou])ies$/, '$1y'],
    [/(ss|sh|ch|x|z)es$/, '$1'],
    [/([^su])s$/, '$1'],
  ];
  for (const [pattern, replacement] of rules) {
    if (pattern.test(kebab)) return kebab.replace(pattern, replacement);
  }
  return kebab;
}

const pascal = (kebab: string): string =>
  kebab
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
const camel = (kebab: string): string =>
  pascal(kebab).charAt(0).toLowerCase() + pascal(kebab).slice(1);

export function namesFor(kebab: string, singularKebab = singularOf(kebab)): Names {
  return {
    kebab,
    singularKebab,
    Plural: pascal(kebab),
    Singular: pascal(singularKebab),
    plural: camel(kebab),
    singular: camel(singularKebab),
    table: kebab.replace(/-/g, '_'),
    words: singularKebab.replace(/-/g, ' '),
  };
}

/** Why a name cannot be a new feature library, or undefined when it can. */
export function nameProblem(kebab: string, coreLibs: readonly string[]): string | undefined {
  if (!NAME_PATTERN.test(kebab)) {
    return `"${kebab}" is not kebab-case (lower-case words joined by "-", starting with a letter), e.g. invoice-lines`;
  }
  if (kebab.length > 40) return `"${kebab}" is longer than 40 characters`;
  if (coreLibs.includes(kebab)) return `"${kebab}" is a core library (libs/core-libs.json)`;
  if (RESERVED_NAMES.includes(kebab)) return `"${kebab}" is reserved`;
  return undefined;
}
