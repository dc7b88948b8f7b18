/**
 * npm run bench:web — what the status page costs the pipeline: the same agent in the same run, alternating
 * phases: no clients; N clients (default 10) that each behave like an open page (the shell and assets once,
 * then the live /api/events stream, which carries the status and the camera's snapshot about once a second,
 * as tiles.js takes them); the same N pages each also scraping /metrics every second. The clients run in
 * a child process, so their own CPU is not counted against the agent.
 *
 * The per-frame CPU time is the agent process (all threads) plus its ffmpeg decode, per processed frame.
 * Two estimates of the extra: A, the whole-process difference (noisy on a shared machine: other load
 * changes inference's CPU time by several %), and B, a direct account: the main thread's extra (HTTP, SSE,
 * status builds, metrics; its own CPU from /proc) plus snapshot renders × one render's CPU off the main thread (measured alone).
 *
 * Phases run in rounds; every second round runs them in mirrored order, so that a slow drift of the per-frame
 * cost during the run (the heap settling) cancels between a load and its reference instead of biasing one.
 *
 * Options: --model PATH --source PATH --clients N (10) --seconds S per phase (20) --rounds R (4; even is best)
 *   --fps F (10) --warmup S (30; pages open and scraping after its first 10 s)
 */
import './lib/telemetry-off.js'; // before anything loads onnxruntime
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../config/logger.js';
import { VigilConfig } from '../config/schema.js';
import { Agent } from '../agent/runtime/agent.js';
import { SnapshotRenderer } from '../agent/web/snapshot-renderer.js';
import { WebService } from '../agent/web/web-service.js';
import { tuneGarbageCollector } from '../agent/runtime/gc-tuning.js';
import { startWebLoad } from './lib/web-load.js';

tuneGarbageCollector(); // as the CLI does (docs/adr/0005)

const shared = process.env.VIGIL_SHARED ?? path.resolve(import.meta.dirname, '..', '..', 'shared');
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: path.join(shared, 'models', 'yolo11n-coco-int8-320.onnx') },
    source: { type: 'string', default: path.join(shared, 'media', 'vtest.avi') },
    clients: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '4' },
    fps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '30' },
  },
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await main();

/** CPU seconds of another process (utime + stime), or 0 once it is gone. */
function processCpu(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of this process (all threads, process.cpuUsage), of its main thread, and of its ffmpeg
 * children (the decode, part of every frame's cost; they run for the whole bench with -stream_loop).
 */
function cpu(): { all: number; main: number; ffmpeg: number } {
  const u = process.cpuUsage();
  // utime and stime in USER_HZ (100 on Linux), after the ")" that ends the command name.
  const ticks = (stat: string) => {
    const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return { ppid: Number(f[1]), seconds: (Number(f[11]) + Number(f[12])) / 100 };
  };
  let ffmpeg = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const t = ticks(stat);
      if (t.ppid === process.pid && stat.includes('(ffmpeg)')) ffmpeg += t.seconds;
    } catch {
      // gone between the listing and the read
    }
  }
  // The main thread's time on a CPU in ns (schedstat), not its stat ticks: 10 ms steps are 0.05 ms a frame
  // in a 20 s phase at 10 fps, a fifth of a percent of the pipeline's frame.
  const main = Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
  return { all: (u.user + u.system) / 1e6, main, ffmpeg };
}

async function main(): Promise<void> {
  const clients = Number(values.clients);
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-web-'));
  const config = VigilConfig.parse({
    site: 'bench',
    device: 'web',
    dataDir: path.join(dir, 'data'),
    http: { host: '127.0.0.1', port: 0 },
    models: { det: { path: values.model } },
    cameras: [{ id: 'cam1', source: values.source, model: 'det', fps: Number(values.fps), loop: true }],
  });
  const web = new WebService(config.http, { log: silentLogger });
  const agent = new Agent(config, { log: silentLogger, version: 'bench', services: [web] });
  await agent.start();
  const url = `http://127.0.0.1:${web.address!.port}`;
  const stats = () => agent.cameras.get('cam1')!.stats.snapshot();
  console.log(
    `model ${path.basename(values.model!)}, source ${path.basename(values.source!)} at ${values.fps} fps, ` +
      `${availableParallelism()} cores (load ${loadavg()[0]!.toFixed(2)} at start; the machine is shared), ` +
      `${clients} clients, ${seconds} s per phase, ${rounds} rounds\n`,
  );
  // Warm-up: models, first frames, JIT, and the heap's growth to its working size, with the pages open and
  // scraping for all but its first 10 s, so that what they cost is measured in its steady state (the HTTP
  // paths compiled, the tag text rasterised), as on a box whose page stays open for hours. The main thread's
  // CPU per frame still falls slowly after this (fewer collections as the heap settles), which is why the
  // phases below run in mirrored order.
  const warmup = Number(values.warmup) * 1000;
  await sleep(Math.min(10_000, warmup));
  if (warmup > 10_000) {
    const warm = startWebLoad({ kind: 'clients', url, clients, scrape: true });
    await sleep(warmup - 10_000);
    warm.kill('SIGTERM');
    await new Promise((r) => warm.once('exit', r));
  }

  type Load = { kind: 'none' } | { kind: 'clients'; scrape: boolean } | { kind: 'burn'; msPerS: number };
  const phase = async (name: string, load: Load) => {
    const child =
      load.kind === 'none'
        ? undefined
        : startWebLoad(
            load.kind === 'clients' ? { kind: 'clients', url, clients, scrape: load.scrape } : load,
          );
    // Clients say when every page has loaded its shell and assets and opened its stream (a one-off, not
    // the 1 Hz cost measured); then 2 s more to settle.
    if (load.kind === 'clients')
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 30_000);
        child!.once('message', () => (clearTimeout(t), resolve()));
      });
    if (child) await sleep(2000);
    const f0 = stats().processed;
    const r0 = web.snapshotsRendered;
    const c0 = cpu();
    const k0 = processCpu(child?.pid);
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const c1 = cpu();
    const childMsPerS = ((processCpu(child?.pid) - k0) * 1000) / seconds;
    const frames = stats().processed - f0;
    const renders = web.snapshotsRendered - r0;
    const wall = (performance.now() - t0) / 1000;
    child?.kill('SIGTERM');
    if (child) await new Promise((r) => child.once('exit', r));
    const r = {
      name,
      frames,
      renders,
      fps: frames / wall,
      all: ((c1.all - c0.all) * 1000) / frames,
      main: ((c1.main - c0.main) * 1000) / frames,
      ffmpeg: ((c1.ffmpeg - c0.ffmpeg) * 1000) / frames,
      childMsPerS,
    };
    console.log(
      `${name.padEnd(16)} ${r.fps.toFixed(2).padStart(6)} fps  per frame: ${(r.all + r.ffmpeg).toFixed(2).padStart(6)} ms CPU ` +
        `(agent ${r.all.toFixed(2)}, of which main thread ${r.main.toFixed(2)}; ffmpeg ${r.ffmpeg.toFixed(2)})` +
        (child ? `; the load process used ${childMsPerS.toFixed(0)} ms CPU/s` : ''),
    );
    return r;
  };

  // Each client phase is followed by a control phase that burns as much CPU in a child as the clients did:
  // on a small box the clients compete for the same cores, which slows the pipeline by itself.
  const idle: Awaited<ReturnType<typeof phase>>[] = [];
  const pages: typeof idle = [];
  const pagesControl: typeof idle = [];
  const busy: typeof idle = [];
  const busyControl: typeof idle = [];
  // Odd rounds run in mirrored order (controls before their load phase, idle last), so a steady drift of the
  // per-frame cost over the run adds as much to the loads as to their references and cancels in the mean.
  // A control burns what its load phase's clients burnt; mirrored, the last round's figure stands in.
  let pageBurn = 15;
  let busyBurn = 20;
  for (let i = 0; i < rounds; i++) {
    const n = `#${i + 1}`;
    const steps: (() => Promise<void>)[] = [
      async () => void idle.push(await phase(`no clients ${n}`, { kind: 'none' })),
      async () => {
        const p = await phase(`${clients} pages ${n}`, { kind: 'clients', scrape: false });
        pages.push(p);
        pageBurn = p.childMsPerS;
      },
      async () => void pagesControl.push(await phase(`  control ${n}`, { kind: 'burn', msPerS: pageBurn })),
      async () => {
        const b = await phase(`+ /metrics ${n}`, { kind: 'clients', scrape: true });
        busy.push(b);
        busyBurn = b.childMsPerS;
      },
      async () => void busyControl.push(await phase(`  control ${n}`, { kind: 'burn', msPerS: busyBurn })),
    ];
    for (const step of i % 2 ? steps.reverse() : steps) await step();
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const total = (r: (typeof idle)[number]) => r.all + r.ffmpeg;
  const spread = (xs: number[]) => (Math.max(...xs) - Math.min(...xs)) / mean(xs);
  const baseTotal = mean(idle.map(total));
  const pct = (ms: number) => `${((ms / baseTotal) * 100).toFixed(2)} %`;
  console.log(
    `\nper-frame CPU time of the pipeline without clients: ${baseTotal.toFixed(2)} ms (agent process + ffmpeg); ` +
      `the idle phases differ by ${(spread(idle.map(total)) * 100).toFixed(1)} % among themselves (shared box)`,
  );

  // The snapshot renders run mostly on libuv and libvips threads, not the main thread: their CPU is measured
  // alone, with the camera stopped, by rendering its last frame again and again (the whole process's CPU, so
  // it also counts whatever else the idle agent does meanwhile). The main thread's share of a render (the
  // crop, the tags, sharp's calls) is already in the main thread's extra, so B adds only the rest.
  const last = agent.cameras.get('cam1')!.last!;
  const order = agent.detectors.get('det')!.info.input.pixelOrder;
  await agent.stopCamera('cam1');
  const renderer = new SnapshotRenderer({ minIntervalMs: 0 });
  // Warm first, as the agent's renderer is after its first second (JIT, libvips' first pipeline).
  for (let i = 0; i < 10; i++) {
    renderer.forget('cam1');
    await renderer.snapshot(last, order);
  }
  const n = 100;
  const rc0 = cpu();
  for (let i = 0; i < n; i++) {
    renderer.forget('cam1');
    await renderer.snapshot(last, order);
  }
  const rc1 = cpu();
  const renderAll = ((rc1.all - rc0.all) * 1000) / n;
  const renderMain = ((rc1.main - rc0.main) * 1000) / n;
  const perRender = renderAll - renderMain;
  console.log(
    `one snapshot render: ${renderAll.toFixed(2)} ms CPU, ${renderMain.toFixed(2)} of it on the main thread ` +
      `(counted there), ${perRender.toFixed(2)} on other threads\n`,
  );

  for (const [name, rs, control] of [
    [`${clients} pages at 1 Hz`, pages, pagesControl],
    [`${clients} pages + /metrics at 1 Hz`, busy, busyControl],
  ] as const) {
    const vsIdle = mean(rs.map(total)) - baseTotal;
    const whole = mean(rs.map(total)) - mean(control.map(total));
    const mainExtra = mean(rs.map((r) => r.main)) - mean(control.map((r) => r.main));
    const renders = mean(rs.map((r) => r.renders / r.frames));
    const direct = mainExtra + renders * perRender;
    const sign = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;
    console.log(
      `${name}: vs idle ${sign(vsIdle)} ms/frame = ${pct(vsIdle)}; vs its control: ` +
        `A. whole process ${sign(whole)} ms/frame = ${pct(whole)}; B. direct: main thread ${sign(mainExtra)} ms/frame + ` +
        `${renders.toFixed(3)} renders/frame × ${perRender.toFixed(2)} ms off the main thread = ${pct(direct)} ` +
        `(target < 2 %)`,
    );
    // B per round, to show the spread the mean hides.
    const perRound = rs.map((r, i) => r.main - control[i]!.main + (r.renders / r.frames) * perRender);
    console.log(`  B by round: ${perRound.map(pct).join(', ')}`);
  }
  await agent.stop();
}
