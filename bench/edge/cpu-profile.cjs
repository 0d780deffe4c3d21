// Preload for profiling a running edge (NODE_OPTIONS="--require <this file>", e.g. through
// TAKO_BENCH_EDGE_NODE_OPTIONS): the first SIGUSR2 starts V8's CPU profiler in the process, the
// next one writes <pid>-<ms>.cpuprofile into $TAKO_CPU_PROFILE_DIR (default the working
// directory), for Chrome DevTools or any .cpuprofile viewer. `--cpu-prof` would profile from
// start to exit and is not allowed in NODE_OPTIONS; this profiles only the window under load.
const inspector = require("node:inspector");
const { writeFileSync } = require("node:fs");
const { join } = require("node:path");

const session = new inspector.Session();
session.connect();
let profiling = false;
process.on("SIGUSR2", () => {
  if (!profiling) {
    profiling = true;
    session.post("Profiler.enable", () =>
      session.post("Profiler.setSamplingInterval", { interval: 200 }, () => session.post("Profiler.start")),
    );
    return;
  }
  profiling = false;
  session.post("Profiler.stop", (err, result) => {
    if (err) return;
    const dir = process.env.TAKO_CPU_PROFILE_DIR ?? process.cwd();
    writeFileSync(join(dir, `${process.pid}-${Date.now()}.cpuprofile`), JSON.stringify(result.profile));
  });
});
