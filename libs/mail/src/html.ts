const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes a value for HTML text or a quoted attribute. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => ESCAPES[character]);
}

/**
 * A tagged template for mail bodies: every interpolated value is escaped, so a user's name
 * cannot inject markup or links into a mail.
 */
export function html(strings: TemplateStringsArray, ...values: Array<string | number>): string {
  return strings.reduce(
    (body, part, index) =>
      body + part + (index < values.length ? escapeHtml(String(values[index])) : ''),
    '',
  );
}
