// Loaded into each app by `npm start` (node --import): the app stops when npm start goes, however
// it goes (even SIGKILL), so that no app is ever left holding its port and its database folder.
if (process.channel) {
  // the channel only watches the parent; it must not keep the app alive by itself
  process.channel.unref();
  process.on('disconnect', () => {
    console.error('npm start is gone: stopping');
    // Nest's shutdown hooks close the app on SIGTERM; a hung close still ends here
    setTimeout(() => process.exit(1), 8_000).unref();
    process.kill(process.pid, 'SIGTERM');
  });
}
