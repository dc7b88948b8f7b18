import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../../config/load.js';
import { runCli, startAgent } from '../../../support/agent-process.js';
import { freePort } from '../../../support/free-port.js';
import { startRtspServer } from '../../../support/rtsp.js';
import { collect, startMosquitto, type Mosquitto } from '../../../support/mosquitto.js';
import { hasShared, repoRoot, sharedPath } from '../../../support/shared.js';

// `vigil demo`: the embedded config/demo.yaml, its lookups beside the checkout, and a real run.
const demoYaml = path.join(repoRoot, 'config', 'demo.yaml');
const demoVars = ['VIGIL_DEVICE', 'VIGIL_MQTT', 'VIGIL_MODEL', 'VIGIL_SOURCE'];
let dir: string;
const saved: Record<string, string | undefined> = {};

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-demo-'));
  for (const v of demoVars) {
    saved[v] = process.env[v];
    delete process.env[v];
  }
});
afterAll(() => {
  for (const v of demoVars)
    if (saved[v] === undefined) delete process.env[v];
    else process.env[v] = saved[v];
  rmSync(dir, { recursive: true, force: true });
});

/** What the demo command does with its config: load it with --data-dir resolved. */
const demoConfig = (dataDir = 'data/demo') => loadConfig(demoYaml, { dataDir: path.resolve(dataDir) });

describe('the demo config (config/demo.yaml)', () => {
  it('defaults: one looping real-time clip, one detector, a local broker, ../shared beside the checkout', () => {
    const cfg = demoConfig(path.join(dir, 'data'));
    expect(cfg.site).toBe('demo');
    expect(cfg.device).toBe('vigil-demo');
    expect(cfg.dataDir).toBe(path.join(dir, 'data'));
    expect(cfg.mqtt!.url).toBe('mqtt://127.0.0.1:1883');
    expect(cfg.mqtt!.baseTopic).toBe('vigil');
    expect(Object.keys(cfg.models)).toEqual(['detector']);
    // README: "The demo looks for them beside the checkout, in ../shared".
    expect(cfg.models.detector!.path).toBe(
      path.resolve(repoRoot, '..', 'shared/models/yolov8n-coco-int8-640.onnx'),
    );
    expect(cfg.models.detector!.providers).toEqual(['tensorrt', 'cuda', 'cpu']);
    expect(cfg.cameras).toHaveLength(1);
    expect(cfg.cameras[0]).toMatchObject({
      id: 'demo',
      model: 'detector',
      loop: true,
      realtime: true,
      source: path.resolve(repoRoot, '..', 'shared/media/vtest.avi'),
    });
    expect(cfg.http).toMatchObject({ host: '127.0.0.1', port: 8080 });
  });

  it('the default data dir is data/demo, resolved from where vigil runs', () => {
    expect(demoConfig().dataDir).toBe(path.resolve('data/demo'));
  });

  it('VIGIL_MODEL, VIGIL_SOURCE, VIGIL_MQTT and VIGIL_DEVICE replace the defaults', () => {
    process.env.VIGIL_MODEL = '/models/mine.onnx';
    process.env.VIGIL_SOURCE = 'rtsp://10.0.0.5/stream';
    process.env.VIGIL_MQTT = 'mqtt://broker.example:1884';
    process.env.VIGIL_DEVICE = 'box7';
    try {
      const cfg = demoConfig(dir);
      expect(cfg.models.detector!.path).toBe('/models/mine.onnx');
      expect(cfg.cameras[0]!.source).toBe('rtsp://10.0.0.5/stream');
      expect(cfg.mqtt!.url).toBe('mqtt://broker.example:1884');
      expect(cfg.device).toBe('box7');
    } finally {
      for (const v of demoVars) delete process.env[v];
    }
  });
});

describe('vigil demo (the CLI)', () => {
  it('a missing model: exit 1 and one line saying which variable to set', async () => {
    const { code, output } = await runCli(['demo', '--data-dir', path.join(dir, 'd1')], {
      VIGIL_MODEL: '/nonexistent/model.onnx',
    });
    expect(code).toBe(1);
    expect(output).toContain(
      'vigil demo: model not found at /nonexistent/model.onnx: set VIGIL_MODEL to a file (see README, "Models and clips")',
    );
    expect(existsSync(path.join(dir, 'd1', 'outbox.db'))).toBe(false);
  });

  it('a missing clip: exit 1 naming VIGIL_SOURCE', async () => {
    const { code, output } = await runCli(['demo', '--data-dir', path.join(dir, 'd2')], {
      VIGIL_MODEL: demoYaml, // any file that exists: the clip is checked before anything loads
      VIGIL_SOURCE: '/nonexistent/clip.avi',
    });
    expect(code).toBe(1);
    expect(output).toContain(
      'vigil demo: sample clip not found at /nonexistent/clip.avi: set VIGIL_SOURCE to a file (see README, "Models and clips")',
    );
  });

  it('a bad VIGIL_MQTT is a config error: exit 2', async () => {
    const { code, output } = await runCli(['demo', '--data-dir', path.join(dir, 'd3')], {
      VIGIL_MQTT: 'gopher://nowhere',
    });
    expect(code).toBe(2);
    expect(output).toMatch(
      /^vigil: config error in .*demo\.yaml: mqtt\.url: expected mqtt:\/\/, mqtts:\/\//m,
    );
  });

  describe.skipIf(!hasShared)('with the model and clip from ../shared', () => {
    let broker: Mosquitto;
    beforeAll(async () => {
      broker = await startMosquitto();
    });
    afterAll(async () => broker?.stop());

    it('uses the broker already on the port, publishes detections, serves the page on --http, and stops cleanly on SIGTERM', async () => {
      expect(existsSync(sharedPath('models', 'yolov8n-coco-int8-640.onnx'))).toBe(true);
      const sub = await collect(broker.url, 'vigil/demo/#');
      const http = await freePort(); // 8080 may be taken on the machine: --http moves the page
      const agent = startAgent(['demo', '--data-dir', path.join(dir, 'run'), '--http', `127.0.0.1:${http}`], {
        VIGIL_MQTT: broker.url,
        VIGIL_DEVICE: `demo-${process.pid}`,
      });
      try {
        await agent.waitForOutput(
          new RegExp(`vigil demo: using the broker already on 127\\.0\\.0\\.1:${broker.port}`),
        );
        // The next line of stderr: it may come in a later chunk than the first.
        await agent.waitForOutput(
          new RegExp(
            `vigil demo: watch the messages with: mosquitto_sub -h 127\\.0\\.0\\.1 -p ${broker.port} -t 'vigil/#' -v`,
          ),
          5000,
        );
        const topic = `vigil/demo/demo-${process.pid}/cameras/demo/detections`;
        await sub.waitFor((m) => m.some((x) => x.topic === topic), 90_000);
        const health = await fetch(`http://127.0.0.1:${http}/healthz`);
        expect(health.status).toBe(200);
        const { code } = await agent.stop('SIGTERM');
        expect(code).toBe(0);
        expect(existsSync(path.join(dir, 'run'))).toBe(true);
      } finally {
        await agent.stop('SIGKILL');
        await sub.close();
      }
    }, 120_000);

    it('VIGIL_SOURCE may be an rtsp:// URL or a file:// URL, as the README says', async () => {
      // Both were refused as "sample clip not found at rtsp://admin:s3cret@…", the password printed.
      const rtsp = await startRtspServer(sharedPath('media', 'vtest.avi'));
      const withCreds = rtsp.url.replace('rtsp://', 'rtsp://admin:s3cret@');
      try {
        for (const source of [withCreds, `file://${sharedPath('media', 'vtest.avi')}`]) {
          const agent = startAgent(['demo', '--data-dir', path.join(dir, 'sources')], {
            VIGIL_MQTT: broker.url,
            VIGIL_DEVICE: `demo-${process.pid}`,
            VIGIL_SOURCE: source,
          });
          try {
            await agent.waitForOutput(/camera state camera=demo state=streaming/, 90_000);
            expect(agent.output()).not.toMatch(/not found|s3cret/);
            expect((await agent.stop('SIGTERM')).code).toBe(0);
          } finally {
            await agent.stop('SIGKILL');
          }
        }
      } finally {
        await rtsp.stop();
      }
    }, 180_000);

    it('a mosquitto that cannot start (a privileged port): says so, runs without a broker', async () => {
      // It said "started mosquitto on 127.0.0.1:1" after waiting 5 s for a broker that had exited at once.
      const agent = startAgent(['demo', '--data-dir', path.join(dir, 'no-broker')], {
        VIGIL_MQTT: 'mqtt://127.0.0.1:1',
        VIGIL_DEVICE: `demo-${process.pid}`,
      });
      try {
        await agent.waitForOutput(
          /vigil demo: \S*mosquitto did not start on 127\.0\.0\.1:1: running without a broker/,
        );
        await agent.waitForOutput(/agent running/, 60_000);
        expect(agent.output()).not.toMatch(/started mosquitto|watch the messages/);
        expect((await agent.stop('SIGTERM')).code).toBe(0);
      } finally {
        await agent.stop('SIGKILL');
      }
    }, 120_000);

    it('with no broker on the port, runs its own and stops it: on SIGTERM, and soon after a SIGKILL', async () => {
      const brokerDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('vigil-demo-mosquitto-'));
      const listening = (port: number) =>
        new Promise<boolean>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port });
          s.once('connect', () => (s.destroy(), resolve(true)));
          s.once('error', () => resolve(false));
        });
      for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
        const port = await freePort();
        const before = new Set(brokerDirs());
        const agent = startAgent(['demo', '--data-dir', path.join(dir, `own-${signal}`)], {
          VIGIL_MQTT: `mqtt://127.0.0.1:${port}`,
          VIGIL_DEVICE: `demo-${process.pid}`,
        });
        try {
          await agent.waitForOutput(new RegExp(`vigil demo: started mosquitto on 127\\.0\\.0\\.1:${port}`));
          // A real broker: a client connects to it.
          const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
          await client.endAsync();
          const own = brokerDirs().filter((d) => !before.has(d));
          expect(own, 'its config folder').toHaveLength(1);
          await agent.stop(signal);
          // Its broker goes with it, and so does the broker's folder, however slow the machine.
          const patient = { timeout: 20_000, interval: 100 };
          await vi.waitFor(
            async () => expect(await listening(port), `broker still up after ${signal}`).toBe(false),
            patient,
          );
          const folder = path.join(tmpdir(), own[0]!);
          await vi.waitFor(
            () => expect(existsSync(folder), `config folder left after ${signal}`).toBe(false),
            patient,
          );
        } finally {
          await agent.stop('SIGKILL');
        }
      }
    }, 120_000);
  });
});
