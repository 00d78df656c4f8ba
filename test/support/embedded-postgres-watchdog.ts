import { spawn } from 'node:child_process';

/**
 * A detached process that stops the run's embedded PostgreSQL (fast shutdown: SIGINT to the
 * postmaster) and removes its folder if jest dies before global-teardown runs (Ctrl-C, kill).
 * It ends by itself once teardown has removed the folder.
 */
const WATCHDOG = `
const { existsSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const [parent, directory] = [Number(process.argv[1]), process.argv[2]];
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
const timer = setInterval(() => {
  if (!existsSync(directory)) return clearInterval(timer);
  if (alive(parent)) return;
  clearInterval(timer);
  let postmaster = 0;
  try { postmaster = Number(readFileSync(join(directory, 'data', 'postmaster.pid'), 'utf8').split('\\n')[0]); } catch {}
  if (postmaster > 0) { try { process.kill(postmaster, 'SIGINT'); } catch {} }
  const removeWhenStopped = setInterval(() => {
    if (postmaster > 0 && alive(postmaster)) return;
    clearInterval(removeWhenStopped);
    rmSync(directory, { recursive: true, force: true });
  }, 200);
}, 1000);
`;

export function stopWhenJestExits(directory: string): void {
  const watchdog = spawn(process.execPath, ['-e', WATCHDOG, String(process.pid), directory], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
}
