/**
 * One CSV field, quoted when needed. Values starting with = + - @ (or tab/CR) are prefixed with
 * an apostrophe so spreadsheets do not run them as formulas (CSV injection).
 */
export function csvField(value: unknown): string {
  let text =
    value instanceof Date
      ? value.toISOString()
      : typeof value === 'string'
        ? value
        : value === null || value === undefined
          ? ''
          : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: unknown[]): string {
  return `${values.map(csvField).join(',')}\n`;
}
