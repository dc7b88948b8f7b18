import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { freePort } from './free-port.js';

/** A real mosquitto 2 for end-to-end tests. */
export interface Mosquitto {
  url: string;
  port: number;
  /** Where its config, log and persistence live. */
  dir: string;
  /** SIGTERM (mosquitto saves its persistence then), SIGKILL if it lingers. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop()). */
  start(): Promise<void>;
  /** Its log so far, for failure messages. */
  log(): string;
  /** The running broker's pid (e.g. to SIGSTOP it and play a hung broker); undefined when stopped. */
  readonly pid: number | undefined;
}

export interface MosquittoOptions {
  /** A fixed port; by default a free one is found (and retried if someone takes it first). */
  port?: number;
  /** Keep sessions and retained messages across stop()/start(). */
  persistence?: boolean;
  /**
   * Working dir (config, log, persistence). By default a fresh tmp dir, removed by stop() (and
   * recreated by start()) unless `persistence` is set: then pass a dir you remove yourself.
   */
  dir?: string;
  /** Default true; false with a `password_file` in `config` for authentication tests. */
  allowAnonymous?: boolean;
  /** Logins (user → password) in a password file of its own (mosquitto_passwd); anonymous refused then. */
  users?: Record<string, string>;
  /** Extra mosquitto.conf lines (acl_file, password_file, …): pass `dir` to know where to write those files. */
  config?: string[];
}

const bin = '/usr/sbin/mosquitto';
const live = new Set<ChildProcess>();
const tmpDirs = new Set<string>();
let exitHookInstalled = false;

/** A test that crashes or forgets stop() must not leave a broker (or its tmp dir) behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
    for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
  });
}

function killOnExit(child: ChildProcess): void {
  installExitHook();
  live.add(child);
  child.once('exit', () => live.delete(child));
}

function removeOnExit(dir: string): void {
  installExitHook();
  tmpDirs.add(dir);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  if (!existsSync(bin)) throw new Error(`mosquitto not found at ${bin}`);
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'vigil-mosquitto-'));
  mkdirSync(dir, { recursive: true });
  const logFile = path.join(dir, 'mosquitto.log');
  let child: ChildProcess | undefined;
  let port = opts.port ?? 0;
  let lastStderr = '';
  if (ownDir) removeOnExit(dir);

  const passwordFile = path.join(dir, 'passwd');
  const writeConfig = () => {
    mkdirSync(dir, { recursive: true });
    if (opts.users) {
      writeFileSync(passwordFile, '');
      for (const [user, password] of Object.entries(opts.users))
        execFileSync('/usr/bin/mosquitto_passwd', ['-b', passwordFile, user, password]);
    }
    const lines = [
      `listener ${port} 127.0.0.1`,
      `allow_anonymous ${opts.allowAnonymous === false || opts.users ? 'false' : 'true'}`,
      ...(opts.users ? [`password_file ${passwordFile}`] : []),
      `persistence ${opts.persistence ? 'true' : 'false'}`,
      `persistence_location ${dir}/`,
      `log_dest file ${logFile}`,
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      // As root mosquitto would switch to the `mosquitto` user, which can't write our tmp dir.
      ...(process.getuid?.() === 0 ? [`user ${userInfo().username}`] : []),
      ...(opts.config ?? []),
    ];
    writeFileSync(path.join(dir, 'mosquitto.conf'), lines.join('\n') + '\n');
  };
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');

  /** Spawns and waits for the port; false when it exited first (e.g. the port was taken). */
  const launch = async (): Promise<boolean> => {
    writeConfig();
    const logBefore = log().length;
    const proc = spawn(bin, ['-c', path.join(dir, 'mosquitto.conf')], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      lastStderr = stderr;
    });
    killOnExit(proc);
    let exited = false;
    proc.once('exit', () => (exited = true));
    for (let i = 0; i < 200; i++) {
      if (exited) return false;
      // The log line proves the listener is this mosquitto, not whoever grabbed the port first.
      if (log().slice(logBefore).includes(' running') && (await canConnect(port))) {
        child = proc;
        return true;
      }
      await sleep(25);
    }
    proc.kill('SIGKILL');
    throw new Error(`mosquitto did not listen on ${port} within 5 s: ${stderr}${log()}`);
  };

  const start = async () => {
    if (child) return;
    // A fixed port, or a restart on ours: a moment after a stop the port may still be held.
    const keepPort = port !== 0;
    for (let attempt = 0; attempt < (keepPort ? 20 : 5); attempt++) {
      if (!keepPort) port = await freePort();
      if (await launch()) return;
      if (keepPort) await sleep(100);
    }
    if (!keepPort) port = 0;
    throw new Error(
      `mosquitto could not listen on ${keepPort ? port : 'a free port'}: ${lastStderr}${log()}`,
    );
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    get url() {
      return `mqtt://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get pid() {
      return child?.pid;
    },
    dir,
    start,
    stop: async () => {
      await stop();
      if (ownDir && !opts.persistence) rmSync(dir, { recursive: true, force: true });
    },
    log,
  };
}

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
  qos: number;
  contentType?: string;
}

export interface Collector {
  messages: Received[];
  /** Resolves once predicate(messages) holds; rejects after timeoutMs with what arrived so far. */
  waitFor(predicate: (messages: Received[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
  client: MqttClient;
}

export interface CollectOptions {
  clientId?: string;
  /** false: a persistent session (MQTT 5 session expiry one hour), so messages queue while it is away. */
  clean?: boolean;
  qos?: 0 | 1 | 2;
  protocolVersion?: 4 | 5;
  extra?: IClientOptions;
}

/** A real subscriber (QoS 1 by default) that records what it receives; resolves once subscribed. */
export async function collect(
  url: string,
  topicFilter: string,
  opts: CollectOptions = {},
): Promise<Collector> {
  const clean = opts.clean ?? true;
  const protocolVersion = opts.protocolVersion ?? 5;
  const client = mqtt.connect(url, {
    clientId: opts.clientId ?? `vigil-test-${Math.random().toString(16).slice(2, 10)}`,
    clean,
    protocolVersion,
    reconnectPeriod: 100,
    connectTimeout: 5000,
    ...(protocolVersion === 5 && !clean ? { properties: { sessionExpiryInterval: 3600 } } : {}),
    ...opts.extra,
  });
  const messages: Received[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    messages.push({
      topic,
      payload: Buffer.from(payload),
      retain: packet.retain,
      qos: packet.qos,
      contentType: packet.properties?.contentType,
    });
    for (const w of [...waiters]) w();
  });
  client.on('error', () => {}); // reconnects; a test sees the effect as missing messages
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => reject(err);
    client.once('error', fail);
    client.once('connect', () => {
      client.removeListener('error', fail);
      client.subscribe(topicFilter, { qos: opts.qos ?? 1 }, (err) => (err ? reject(err) : resolve()));
    });
  });

  const waitFor = (predicate: (m: Received[]) => boolean, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!predicate(messages)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        const got = messages.map((m) => `${m.topic} ${m.payload.toString().slice(0, 80)}`).join('\n  ');
        reject(
          new Error(`waitFor: not satisfied within ${timeoutMs} ms; ${messages.length} received:\n  ${got}`),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  return {
    messages,
    waitFor,
    client,
    close: () => new Promise<void>((resolve) => client.end(true, {}, () => resolve())),
  };
}
