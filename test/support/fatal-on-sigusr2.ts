/**
 * Preloaded into an app process by tests (`AppProcess`'s `preload`): on SIGUSR2 the process
 * fails as a bug would, with an exception nothing catches.
 */
process.on('SIGUSR2', () => {
  setImmediate(() => {
    throw new Error('simulated fatal error (SIGUSR2)');
  });
});
