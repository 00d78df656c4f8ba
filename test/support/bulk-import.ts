/** A `users.import` CSV of `rows` valid users under a unique `tag`, and their emails. */
export function bulkImportCsv(tag: string, rows: number): { csv: string; emails: string[] } {
  const emails = Array.from({ length: rows }, (_, i) => `${tag}-${i}@bulk.example.com`);
  return {
    csv: [
      'email,name,password',
      ...emails.map((email, i) => `${email},Bulk ${i},bulk-password-${i}`),
    ].join('\n'),
    emails,
  };
}
