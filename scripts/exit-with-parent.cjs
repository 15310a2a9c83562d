// Preloaded (node --require) into the web and worker children of `npm start`: if the parent
// dies without cleaning up (SIGKILL, OOM), the children exit too instead of holding the port.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, "SIGTERM");
}, 1000).unref();
