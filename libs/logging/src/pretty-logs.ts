export interface PrettyLogsContext {
  /** Whether stdout is a terminal. */
  isTty: boolean;
  production: boolean;
  /** Whether pino-pretty can be loaded (a dev dependency: absent from the Docker image). */
  prettyInstalled: () => boolean;
}

/**
 * `LOG_PRETTY`: true = human-readable, false = JSON lines. Unset = automatic: human-readable
 * when a person is watching (stdout is a terminal, not production) and pino-pretty is
 * installed, JSON otherwise (pipes, log collectors, containers).
 */
export function shouldPrettyPrint(
  setting: boolean | undefined,
  context: PrettyLogsContext,
): boolean {
  if (setting !== undefined) return setting;
  return context.isTty && !context.production && context.prettyInstalled();
}

export function isPinoPrettyInstalled(): boolean {
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
