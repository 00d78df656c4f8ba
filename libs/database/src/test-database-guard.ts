/**
 * Refuses to let a destructive test harness touch a database whose name does not contain
 * "test": a mistyped DATABASE_URL must never drop someone's data.
 */
export function assertTestDatabase(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/test/i.test(name)) {
    throw new Error(
      `Refusing to run tests against database "${name}": its name must contain "test".`,
    );
  }
  return name;
}
