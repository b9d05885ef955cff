// A benchmark server in its own process, driven over IPC (the requests that
// bench/server-control.mjs answers). Shared by bench/engine.mjs, bench/socket.mjs and
// bench/heap-census.mjs.
import { execFileSync, fork } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { within } from "./engine-load.mjs";

/** Every server still running, killed by `killServers()` on error or exit. */
const children = new Set();

/**
 * Forks `script` with `args` (and --expose-gc) and resolves once it announced its port.
 * `name` labels errors; `env` is the child's environment; `pin` puts it on CPU 0.
 * Returns { port, ask(cmd, extra?, ms?), common requests, profiling hooks, stop() }.
 */
export async function forkServer(script, args, { name, env = process.env, pin = false, profileFile } = {}) {
  const child = fork(script, args, {
    execArgv: ["--expose-gc"],
    env,
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  if (pin) pinTo(child.pid, 0);

  let nextId = 0;
  const pending = new Map();
  child.on("message", (msg) => {
    const settle = pending.get(msg?.id);
    if (settle) {
      pending.delete(msg.id);
      settle.resolve(msg);
    }
  });
  // Send failures surface through the pending request; keep them from being unhandled.
  child.on("error", (err) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  child.once("exit", (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`${name} server exited (${code ?? signal})`));
    pending.clear();
  });

  const ask = (cmd, extra, ms = 15_000) =>
    within(
      new Promise((resolve, reject) => {
        if (!child.connected) return reject(new Error(`${name} server is gone (asked ${cmd})`));
        const id = ++nextId;
        pending.set(id, { resolve, reject });
        child.send({ ...extra, id, cmd });
      }),
      ms,
      `${name} server answering ${cmd}`,
    );

  const port = await within(
    new Promise((resolve, reject) => {
      child.on("message", (msg) => msg?.ready && resolve(msg.port));
      child.once("exit", (code) => reject(new Error(`${name} server exited early (${code})`)));
    }),
    15_000,
    `${name} server start`,
  );

  return {
    port,
    ask,
    cpuMark: async () => {
      const { cpu } = await ask("cpu-mark");
      return cpu.user + cpu.system;
    },
    mem: () => ask("mem"),
    clients: () => ask("clients"),
    waitClients: (n) => ask("wait-clients", { n }),
    // With `profileFile(window)`: CPU profiles of measurement windows only.
    profileStart: profileFile ? () => ask("profile-start") : undefined,
    profileStop: profileFile
      ? async (window) => {
          const file = profileFile(window);
          mkdirSync(path.dirname(file), { recursive: true });
          const { error } = await ask("profile-stop", { file });
          if (error) throw new Error(`profiling ${name}: ${error}`);
        }
      : undefined,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      if (child.connected) child.send({ cmd: "exit" });
      try {
        await within(exited, 10_000, `${name} server exit`);
      } catch {
        child.kill("SIGKILL");
      }
    },
  };
}

/** Pins every thread of `pid` to one CPU (Linux `taskset`), so runs do not migrate. */
export function pinTo(pid, cpu) {
  execFileSync("taskset", ["-a", "-p", "-c", String(cpu), String(pid)], { stdio: "ignore", timeout: 5000 });
}

export function killServers() {
  for (const child of children) child.kill("SIGKILL");
}
